"""The search panel's results: one row per customer, and a footer that says how many match
and whether the agent should keep typing."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from agentdesk.store.local import CustomerSummary, SearchResult
from ui.qt import Qt
from ui.search_panel import SearchView


def summaries(count: int) -> tuple[CustomerSummary, ...]:
    return tuple(
        CustomerSummary(
            id=f"id-{n}",
            name=f"Kari {n:03d}",
            organisation="Oslo kommune",
            tier="A" if n % 2 else "B",
            phone="+47 22 33 44 55",
            email=f"kari{n}@example.no",
            computers=f"OSL-{n}" if n else "",
        )
        for n in range(count)
    )


@pytest.fixture
def view(qtbot: QtBot) -> SearchView:
    widget = SearchView()
    qtbot.addWidget(widget)
    return widget


def test_each_customer_is_a_row_with_what_recognises_them(view: SearchView) -> None:
    # When two results are shown
    view.show_results(SearchResult(summaries(2), 2, True), "kari")

    # Then each is a row with name, tier, organisation and phone, the first selected
    first = view.results.topLevelItem(0)
    assert first is not None
    assert [first.text(c) for c in range(4)] == [
        "Kari 000",
        "B",
        "Oslo kommune",
        "+47 22 33 44 55",
    ]
    assert first.data(0, Qt.ItemDataRole.UserRole) == "id-0"
    assert view.results.currentItem() is first
    second = view.results.topLevelItem(1)
    assert second is not None
    assert "Computers: OSL-1" in second.toolTip(0)
    assert "kari1@example.no" in second.toolTip(0)


@pytest.mark.parametrize(
    ("result", "query", "footer"),
    [
        (SearchResult(summaries(1), 1, True), "kari", "1 match"),
        (SearchResult(summaries(3), 3, True), "kari", "3 matches"),
        (SearchResult((), 0, True), "zz", "No customer matches"),
        (
            SearchResult(summaries(100), 734, True),
            "kari",
            "100 of 734 matches — refine the search to see the others",
        ),
        (
            SearchResult(summaries(100), 1000, False),
            "ka",
            "100 of 1,000+ matches — keep typing to narrow the search",
        ),
        (
            SearchResult((), 0, False),
            "kari q",
            "No match found yet — keep typing to narrow the search",
        ),
        (SearchResult(summaries(4), 4, True), "", "4 customers"),
        (SearchResult(summaries(100), 100, False), " ", "First 100 customers by name"),
    ],
)
def test_the_footer_says_how_many_match_and_whether_to_keep_typing(
    view: SearchView, result: SearchResult, query: str, footer: str
) -> None:
    # When a search's results are shown
    view.show_results(result, query)

    # Then the footer says how many match, and when the search stopped early, to type more
    assert view.count.text() == footer
    assert view.results.topLevelItemCount() == len(result)
