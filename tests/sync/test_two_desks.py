"""Two desks editing one sheet: disjoint edits merge, overlapping ones are shown, never lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import LiveServer
from tests.server.conftest import create_sheet, read_sheet
from tests.sync.conftest import Desk, DeskFactory

SheetFactory = Callable[..., dict[str, Any]]


async def _two_synced_desks(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> tuple[Desk, Desk, dict[str, Any]]:
    with live_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    first = await open_desk(live_server, "agent", name="first")
    second = await open_desk(live_server, "engineer", name="second")
    assert first.store.device_id != second.store.device_id
    for desk in (first, second):
        await desk.engine.sync_once()
    return first, second, sheet


def _server_sheet(live_server: LiveServer, customer_id: str) -> dict[str, Any]:
    with live_server.http("supervisor") as http:
        return read_sheet(http, customer_id)


async def test_edits_of_different_fields_from_two_desks_both_land(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given: the second desk edits while offline, based on the version both had
    first, second, sheet = await _two_synced_desks(live_server, open_desk, customer_factory)
    await first.save_edit(sheet["id"], {"location": "Bryggen 3, Bergen"})
    await second.save_edit(sheet["id"], {"tier": "A"})
    await first.engine.sync_once()

    # When
    await second.engine.sync_once()
    await first.engine.sync_once()

    # Then
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["location"], stored["tier"], stored["version"]) == ("Bryggen 3, Bergen", "A", 3)
    for desk in (first, second):
        local = desk.store.customer(sheet["id"])
        assert local is not None
        assert (local.location, local.tier, local.version) == ("Bryggen 3, Bergen", "A", 3)
        assert desk.store.outbox_counts().pending == 0
        assert desk.store.issues_for(sheet["id"]) == []


async def test_edits_of_the_same_field_leave_a_visible_conflict_with_both_values(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    first, second, sheet = await _two_synced_desks(live_server, open_desk, customer_factory)
    await first.save_edit(sheet["id"], {"email": "first@example.no"})
    await second.save_edit(sheet["id"], {"email": "second@example.no"})
    await first.engine.sync_once()

    # When
    await second.engine.sync_once()

    # Then: the server kept the first value, the second desk shows both
    assert _server_sheet(live_server, sheet["id"])["email"] == "first@example.no"
    counts = second.store.outbox_counts()
    assert (counts.pending, counts.conflicts) == (0, 1)
    assert second.engine.status.conflicts == 1
    (issue,) = second.store.issues_for(sheet["id"])
    assert issue.state == "conflict"
    assert issue.fields == {"email": "second@example.no"}
    assert issue.conflicting_fields == ("email",)
    assert issue.server_record is not None
    assert issue.server_record["email"] == "first@example.no"
    local = second.store.customer(sheet["id"])
    assert local is not None and local.email == "second@example.no"


async def test_keeping_mine_after_a_conflict_sends_my_value(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    first, second, sheet = await _two_synced_desks(live_server, open_desk, customer_factory)
    await first.save_edit(sheet["id"], {"organisation": "Equinor"})
    await second.save_edit(sheet["id"], {"organisation": "Statkraft"})
    await first.engine.sync_once()
    await second.engine.sync_once()
    (issue,) = second.store.issues_for(sheet["id"])

    # When
    await second.resolve(issue.mutation_id, keep_mine=True)
    await second.engine.sync_once()

    # Then
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["organisation"], stored["version"]) == ("Statkraft", 3)
    assert second.store.issues_for(sheet["id"]) == []
    assert second.store.outbox_counts() == first.store.outbox_counts()
    assert second.store.outbox_counts().pending == 0


async def test_taking_theirs_after_a_conflict_drops_my_value(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    first, second, sheet = await _two_synced_desks(live_server, open_desk, customer_factory)
    await first.save_edit(sheet["id"], {"organisation": "Equinor"})
    await second.save_edit(sheet["id"], {"organisation": "Statkraft"})
    await first.engine.sync_once()
    await second.engine.sync_once()
    (issue,) = second.store.issues_for(sheet["id"])

    # When
    await second.resolve(issue.mutation_id, keep_mine=False)
    await second.engine.sync_once()

    # Then
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["organisation"], stored["version"]) == ("Equinor", 2)
    local = second.store.customer(sheet["id"])
    assert local is not None and (local.organisation, local.version) == ("Equinor", 2)
    assert second.store.issues_for(sheet["id"]) == []


async def test_conflict_holds_back_later_edits_of_that_sheet_only(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    first, second, sheet = await _two_synced_desks(live_server, open_desk, customer_factory)
    with live_server.http("agent") as http:
        other = create_sheet(http, customer_factory())
    await second.engine.sync_once()
    await first.save_edit(sheet["id"], {"location": "A"})
    await first.engine.sync_once()
    await second.save_edit(sheet["id"], {"location": "B"})
    await second.engine.sync_once()

    # When
    await second.save_edit(sheet["id"], {"tier": "A"})
    await second.save_edit(other["id"], {"tier": "A"})
    await second.engine.sync_once()

    # Then
    assert _server_sheet(live_server, other["id"])["tier"] == "A"
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["location"], stored["tier"]) == ("A", "B")
    counts = second.store.outbox_counts()
    assert (counts.pending, counts.conflicts) == (1, 1)
