"""The timings page of a run (`timings=FILE.html`): one self-contained HTML document, drawn from a `Page`.

Pure: `render(page)` turns what a run did (a bar per task on the thread that ran it, the sources,
the counts) into HTML text with inline CSS, inline SVG and a few lines of inline script that sort
the tables; nothing is loaded from anywhere else, so the page opens offline and in a CI artifact
viewer. `tasks/console/timings.py` collects the run's events into a `Page`; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

KIND_COLOURS = {
    "fetch": "#4e79a7",
    "build_meta": "#f28e2b",
    "build_wheel": "#e15759",
    "sync": "#59a14f",
    "lock": "#b07aa1",
}
OTHER_COLOUR = "#9c9c9c"
FAILED_COLOUR = "#d62728"
WIDTH = 960  # the timeline's drawing width in pixels
LABELS = 90  # the lane labels' column
LANE = 22  # one thread's row


@dataclass(frozen=True)
class Bar:
    """One task that ran: on which thread (lane), from when to when (seconds since the run began)."""

    task: str
    lane: int
    start: float
    end: float
    failed: bool = False

    @property
    def kind(self) -> str:
        return self.task.split(":", 1)[0]

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class SourceRow:
    """One source of the run, as the JSON report tells it, with its build time and log."""

    name: str
    kind: str
    revision: str
    fresh: bool | None
    why: str
    built: tuple[str, ...]
    reused: int
    build_seconds: float
    downloaded_bytes: int
    log: str | None


@dataclass(frozen=True)
class Page:
    """Everything the page shows."""

    command: str
    project: str
    environments: tuple[str, ...]
    started: str
    seconds: float
    counts: tuple[tuple[str, int], ...]
    downloaded_bytes: int
    bars: tuple[Bar, ...]
    sources: tuple[SourceRow, ...]
    error: str | None = None


def concurrency(bars: tuple[Bar, ...]) -> list[tuple[float, int]]:
    """How many tasks ran at once, as steps: (time, count from that time on), in time order."""
    edges = sorted([(b.start, 1) for b in bars] + [(b.end, -1) for b in bars], key=lambda e: (e[0], e[1]))
    steps: list[tuple[float, int]] = [(0.0, 0)]
    running = 0
    for at, change in edges:
        running += change
        if steps[-1][0] == at:
            steps[-1] = (at, running)
        else:
            steps.append((at, running))
    return steps


def slowest(bars: tuple[Bar, ...], count: int = 10) -> list[Bar]:
    """The `count` longest tasks, longest first."""
    return sorted(bars, key=lambda b: (-b.seconds, b.task))[:count]


def render(page: Page) -> str:
    """The whole HTML document."""
    title = f"wheelwright timings: {page.command}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(page),
        "<h2>Timeline</h2>",
        _timeline(page),
        "<h2>Sources</h2>",
        _sources(page.sources),
        "<h2>Slowest tasks</h2>",
        _slowest(page.bars),
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _header(page: Page) -> str:
    status = (
        f'<p class="status failed" id="status">failed: {escape(page.error)}</p>'
        if page.error
        else '<p class="status ok" id="status">succeeded</p>'
    )
    facts = [
        ("command", page.command),
        ("project", page.project),
        ("environments", ", ".join(page.environments) or "none"),
        ("started", page.started),
        ("total", f"{page.seconds:.2f} s"),
        ("downloaded", _size(page.downloaded_bytes)),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    counts = "".join(
        f'<li><span class="count" id="count-{escape(k.replace(" ", "-"))}">{n}</span> {escape(k)}</li>'
        for k, n in page.counts
    )
    facts_table = f'<table class="facts">{rows}</table>'
    return f'<h1>wheelwright timings</h1>{status}{facts_table}<ul class="counts">{counts}</ul>'


def _x(at: float, total: float) -> float:
    return LABELS + (at / total) * WIDTH if total > 0 else LABELS


def _timeline(page: Page) -> str:
    total = max([page.seconds, *(b.end for b in page.bars)]) or 1.0
    lanes = 1 + max((b.lane for b in page.bars), default=0)
    chart_top = lanes * LANE + 30
    height = chart_top + 70
    shapes = [_lane_label(lane) for lane in range(lanes)]
    shapes += [_bar(bar, total) for bar in page.bars]
    shapes += _axis(total, lanes * LANE + 4)
    shapes.append(_concurrency_line(page.bars, total, chart_top))
    legend = "".join(
        f'<span class="key"><i style="background:{colour}"></i>{escape(kind)}</span>'
        for kind, colour in KIND_COLOURS.items()
    )
    svg = (
        f'<svg id="timeline" width="{LABELS + WIDTH + 20}" '
        f'height="{height}" role="img" aria-label="tasks on a timeline">{"".join(shapes)}</svg>'
    )
    failed = f'<span class="key"><i style="background:{FAILED_COLOUR}"></i>failed</span>'
    return f'<div class="legend">{legend}{failed}</div>{svg}'


def _lane_label(lane: int) -> str:
    y = lane * LANE + 15
    return f'<text class="lane" x="4" y="{y}">thread {lane + 1}</text>'


def _bar(bar: Bar, total: float) -> str:
    x, end = _x(bar.start, total), _x(bar.end, total)
    width = max(end - x, 1.5)
    colour = FAILED_COLOUR if bar.failed else KIND_COLOURS.get(bar.kind, OTHER_COLOUR)
    state = " failed" if bar.failed else ""
    label = f"{bar.task} ({bar.seconds:.2f} s{', failed' if bar.failed else ''})"
    text = (
        f'<text x="{x + 3:.1f}" y="{bar.lane * LANE + 15}" class="in-bar">{escape(bar.task)}</text>'
        if width > 7 * len(bar.task)
        else ""
    )
    return (
        f'<g class="bar{state}" data-task="{escape(bar.task)}" data-kind="{escape(bar.kind)}" '
        f'data-seconds="{bar.seconds:.3f}"><title>{escape(label)}</title>'
        f'<rect x="{x:.1f}" y="{bar.lane * LANE + 2}" width="{width:.1f}" height="{LANE - 4}" '
        f'rx="3" fill="{colour}"/>{text}</g>'
    )


def _axis(total: float, y: int) -> list[str]:
    step = _tick_step(total)
    marks, at = [], 0.0
    while at <= total + 1e-9:
        x = _x(at, total)
        marks.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{y}" class="grid"/>')
        marks.append(f'<text x="{x:.1f}" y="{y + 14}" class="tick">{at:g}s</text>')
        at += step
    return marks


def _tick_step(total: float) -> float:
    for step in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if total / step <= 12:
            return step
    return total / 10


def _concurrency_line(bars: tuple[Bar, ...], total: float, top: int) -> str:
    steps = concurrency(bars)
    peak = max((n for _, n in steps), default=0) or 1
    points: list[str] = []
    level = float(top + 50)
    for at, count in steps:
        x = _x(at, total)
        points.append(f"{x:.1f},{level:.1f}")
        level = top + 50 - (count / peak) * 46
        points.append(f"{x:.1f},{level:.1f}")
    points.append(f"{_x(total, total):.1f},{level:.1f}")
    return (
        f'<text x="4" y="{top + 28}" class="lane">running</text>'
        f'<text x="{LABELS - 4}" y="{top + 10}" class="tick" text-anchor="end">{peak}</text>'
        f'<polyline id="concurrency" fill="none" stroke="#333" points="{" ".join(points)}"/>'
    )


def _sources(rows: tuple[SourceRow, ...]) -> str:
    head = (
        "<thead><tr>"
        '<th data-sort="text">source</th><th data-sort="text">kind</th><th>revision</th>'
        '<th data-sort="text">fresh</th><th>why</th><th>built</th><th data-sort="number">reused</th>'
        '<th data-sort="number">build time</th><th data-sort="number">downloaded</th><th>build log</th>'
        "</tr></thead>"
    )
    body = "".join(_source_row(r) for r in rows)
    return f'<table id="sources" class="sortable">{head}<tbody>{body}</tbody></table>'


def _source_row(r: SourceRow) -> str:
    fresh = {True: "fresh", False: "stale", None: "not looked at"}[r.fresh]
    cells = [
        (r.name, r.name),
        (r.kind, r.kind),
        (r.revision[:12] + ("…" if len(r.revision) > 12 else ""), r.revision),
        (fresh, fresh),
        (r.why, r.why),
        (", ".join(r.built) or "-", ""),
        (str(r.reused), str(r.reused)),
        (f"{r.build_seconds:.2f} s" if r.built else "-", f"{r.build_seconds:.3f}"),
        (_size(r.downloaded_bytes) if r.downloaded_bytes else "-", str(r.downloaded_bytes)),
        (r.log or "-", ""),
    ]
    tds = "".join(
        f'<td class="c{i}" data-value="{escape(value)}">{escape(text)}</td>'
        for i, (text, value) in enumerate(cells)
    )
    return f'<tr class="source" data-source="{escape(r.name)}">{tds}</tr>'


def _slowest(bars: tuple[Bar, ...]) -> str:
    rows = "".join(
        f'<tr class="slow"><td>{escape(b.task)}</td><td data-value="{b.seconds:.3f}">{b.seconds:.2f} s</td>'
        f"<td>{'failed' if b.failed else 'ok'}</td></tr>"
        for b in slowest(bars)
    )
    head = (
        '<thead><tr><th data-sort="text">task</th><th data-sort="number">time</th>'
        "<th>result</th></tr></thead>"
    )
    return f'<table id="slowest" class="sortable">{head}<tbody>{rows}</tbody></table>'


def _size(count: int) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    return f"{count / 1024:.1f} KiB" if count >= 1024 else f"{count} B"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px}
.status.ok{color:#2a7d2a}.status.failed{color:#d62728;font-weight:bold}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;
vertical-align:top}th[data-sort]{cursor:pointer;text-decoration:underline dotted}
.facts th{font-weight:normal;color:#666}.counts{list-style:none;padding:0;display:flex;gap:18px}
.count{font-weight:bold;font-size:18px}.legend{margin-bottom:4px}.key{margin-right:14px}
.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
svg text{font-size:11px;font-family:system-ui,sans-serif}.in-bar{fill:#fff}.lane{fill:#444}
.tick{fill:#666}.grid{stroke:#eee}.bar.failed rect{stroke:#000;stroke-width:1.5}
#sources td.c5,#sources td.c9{font-family:monospace;font-size:12px}
"""

_SCRIPT = """
document.querySelectorAll('table.sortable th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
    var numeric = th.dataset.sort === 'number', down = th.dataset.dir !== 'down';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.value || a.cells[col].textContent;
      var y = b.cells[col].dataset.value || b.cells[col].textContent;
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return down ? -order : order;
    });
    th.dataset.dir = down ? 'down' : 'up';
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""
