"""The bottom layer: errors, events, URLs and digests, atomic files, safe names, cross-process
mutexes, HTTP.

Nothing here imports another package of `tasks`.
"""
