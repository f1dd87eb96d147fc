"""Pulling changes: pages in change order, every visible change once, a cursor that advances."""

from __future__ import annotations

from collections.abc import Callable

from tests.server.conftest import (
    ClientFor,
    Json,
    all_changes_since,
    changes_page,
    create_sheet,
    newest_cursor,
)

SheetFactory = Callable[..., Json]


def test_small_pages_return_every_visible_change_once_in_seq_order(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    since = newest_cursor(agent)
    created = [create_sheet(agent, customer_factory())["id"] for _ in range(7)]

    # When
    pages: list[Json] = []
    cursor = since
    while True:
        page = changes_page(agent, cursor, limit=2)
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            break

    # Then
    changes = [c for page in pages for c in page["changes"]]
    assert [c["id"] for c in changes] == created
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs))
    assert all(len(page["changes"]) <= 2 for page in pages)
    assert len(pages) == 4


def test_page_metadata_agrees_with_what_is_left(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given: exactly two full pages of changes
    agent = client_for("agent")
    since = newest_cursor(agent)
    for _ in range(4):
        create_sheet(agent, customer_factory())

    # When
    first = changes_page(agent, since, limit=2)
    second = changes_page(agent, first["cursor"], limit=2)

    # Then
    assert (first["has_more"], first["remaining"]) == (True, 2)
    assert first["cursor"] == first["changes"][-1]["seq"]
    assert len(second["changes"]) == 2
    assert (second["has_more"], second["remaining"]) == (False, 0)
    assert second["cursor"] >= second["changes"][-1]["seq"]


def test_remaining_counts_down_to_zero_across_pages(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    since = newest_cursor(agent)
    total = 5
    for _ in range(total):
        create_sheet(agent, customer_factory())

    # When
    seen = 0
    cursor = since
    observed: list[tuple[int, int, bool]] = []
    while True:
        page = changes_page(agent, cursor, limit=2)
        seen += len(page["changes"])
        observed.append((seen, page["remaining"], page["has_more"]))
        cursor = page["cursor"]
        if not page["has_more"]:
            break

    # Then
    assert observed == [(2, 3, True), (4, 1, True), (5, 0, False)]


def test_cursor_advances_past_changes_the_user_may_not_see(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    north = client_for("agent")
    south = client_for("agent_south")
    since = newest_cursor(north)
    hidden = create_sheet(south, customer_factory(department="South"))
    hidden_seq = next(c["seq"] for c in all_changes_since(south, since) if c["id"] == hidden["id"])

    # When
    page = changes_page(north, since, limit=2)

    # Then
    assert page["changes"] == []
    assert page["has_more"] is False
    assert page["cursor"] >= hidden_seq
    assert changes_page(north, page["cursor"])["cursor"] == page["cursor"]


def test_updated_sheet_appears_once_at_its_new_seq(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    since = newest_cursor(agent)
    sheet = create_sheet(agent, customer_factory())
    created_seq = all_changes_since(agent, since)[0]["seq"]
    other = create_sheet(agent, customer_factory())
    updated = agent.put(
        f"/api/v1/customers/{sheet['id']}", json={"version": 1, "location": "Etasje 4"}
    )
    assert updated.status_code == 200

    # When
    changes = all_changes_since(agent, since, limit=1)

    # Then
    assert [c["id"] for c in changes] == [other["id"], sheet["id"]]
    change = changes[1]
    assert change["seq"] > created_seq
    assert change["version"] == 2
    assert change["data"]["location"] == "Etasje 4"
    assert change["data"]["version"] == 2


def test_pull_with_the_newest_cursor_is_empty_and_keeps_it(client_for: ClientFor) -> None:
    # Given
    agent = client_for("agent")
    cursor = newest_cursor(agent)

    # When
    page = changes_page(agent, cursor)

    # Then
    assert page == {"changes": [], "cursor": cursor, "has_more": False, "remaining": 0}


def test_change_carries_the_whole_sheet(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    since = newest_cursor(agent)
    sheet = create_sheet(agent, customer_factory(name="Ola Østberg 欧拉"))

    # When
    (change,) = all_changes_since(agent, since)

    # Then
    assert change["entity"] == "customer"
    assert change["id"] == sheet["id"]
    assert change["data"] == sheet
