"""The timings page's pure parts: concurrency steps, the slowest tasks, and what the HTML holds."""

from __future__ import annotations

from tasks.console.timings_page import Bar, Page, SourceRow, concurrency, render, slowest


def bars() -> tuple[Bar, ...]:
    return (
        Bar("fetch:a", 0, 0.0, 1.0),
        Bar("fetch:b", 1, 0.5, 2.0),
        Bar("build_wheel:b", 1, 2.0, 5.0, failed=True),
        Bar("sync:default", 0, 5.0, 5.5),
    )


def test_concurrency_counts_tasks_running_at_once() -> None:
    assert concurrency(bars()) == [(0.0, 1), (0.5, 2), (1.0, 1), (2.0, 1), (5.0, 1), (5.5, 0)]


def test_slowest_first_and_bounded() -> None:
    assert [b.task for b in slowest(bars(), 2)] == ["build_wheel:b", "fetch:b"]


def test_page_is_self_contained_and_escapes_what_it_shows() -> None:
    row = SourceRow(
        "b", "git", "f" * 40, False, "stale: <new commit>", ("b-1.0-py3-none-any.whl",), 0, 3.0, 0, None
    )
    page = Page("wheelwright sync", "/p", ("sync:default (/p/.venv)",), "2026-12-02T00:00:00Z", 5.5,
                (("built", 1),), 2048, bars(), (row,), error="build_wheel:b: backend <failed>")  # fmt: skip
    html = render(page)
    assert html.count('<g class="bar') == 4 and html.count('<g class="bar failed"') == 1
    assert "stale: &lt;new commit&gt;" in html and "backend &lt;failed&gt;" in html
    assert "<script src" not in html and "<link" not in html and "://" not in html
    assert 'data-value="' + "f" * 40 + '"' in html  # the full revision sorts; the cell shows 12 characters
