"""The run's views, chosen from its variables: the console (quiet, live or plain), the JSON-lines log,
`report=FILE` (console/report.py) and `timings=FILE.html` (console/timings.py), each written at exit."""

from __future__ import annotations

import os
from pathlib import Path

from tasks.console.report import ReportView
from tasks.console.views import console_view
from tasks.core.events import EVENTS_ENV, JsonLinesReporter, Reporter, Tee, set_reporter
from tasks.run.context import flag, variables


def choose_views() -> None:
    """Make this run's reporter: the console view, plus the JSON-lines log, the report and the timings page
    when asked for."""
    views: list[Reporter] = [console_view(quiet=flag("quiet"))]
    if log := os.environ.get(EVENTS_ENV):
        views.append(JsonLinesReporter(log))
    for name, view in (("report", ReportView), ("timings", _timings_view)):
        if target := variables().get(name):
            import atexit

            made = view(_user_path(target))
            atexit.register(made.write)
            views.append(made)
    set_reporter(views[0] if len(views) == 1 else Tee(*views))


def _timings_view(path: Path) -> ReportView:
    from tasks.console.timings import TimingsView

    return TimingsView(path)


def _user_path(value: str) -> Path:
    return Path(os.environ.get("WHEELWRIGHT_CWD") or ".") / Path(value).expanduser()
