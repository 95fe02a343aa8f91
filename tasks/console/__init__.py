"""The console: every view of a run's events, the only code that prints.

`lines` (the text of each event: uv's summary lines, lock changes, the cache table), `views`
(plain, live, quiet), `report` (`report=FILE`), `timings` and `timings_page` (`timings=FILE.html`)
and `choose` (which views a run gets). Below `tasks/stages`, above `tasks/run`: the report reads
the run's pins. The channel (`emit`, `set_reporter`) stays in `tasks/core/events.py`, the kinds of
event the views match on in `tasks/core/eventkinds.py`.
"""
