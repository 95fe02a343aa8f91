"""The bottom layer: errors, events, URLs and digests, atomic files, safe names, locks, HTTP.

Nothing here imports another package of `tasks`.
"""
