"""Edits saved on the desk reach the server once, even when an answer is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentdesk.sync.engine import SyncState
from tests.conftest import LiveServer
from tests.server.conftest import create_sheet, read_sheet
from tests.sync.conftest import Desk, DeskFactory, has_reported, state_is, wait_until

SheetFactory = Callable[..., dict[str, Any]]


async def _desk_with_sheet(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> tuple[Desk, dict[str, Any]]:
    with live_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    desk = await open_desk(live_server)
    await desk.engine.sync_once()
    assert desk.store.customer(sheet["id"]) is not None
    return desk, sheet


def _server_sheet(live_server: LiveServer, customer_id: str) -> dict[str, Any]:
    with live_server.http("agent") as http:
        return read_sheet(http, customer_id)


async def test_local_edit_reaches_the_server_and_empties_the_outbox(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    desk, sheet = await _desk_with_sheet(live_server, open_desk, customer_factory)
    await desk.save_edit(sheet["id"], {"location": "Kontor 7, Bergen", "tier": "A"})
    assert desk.store.outbox_counts().pending == 1

    # When
    await desk.engine.sync_once()

    # Then
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["location"], stored["tier"], stored["version"]) == ("Kontor 7, Bergen", "A", 2)
    assert desk.store.outbox_counts().pending == 0
    local = desk.store.customer(sheet["id"])
    assert local is not None
    assert (local.version, local.location) == (2, "Kontor 7, Bergen")
    assert desk.engine.status.pending == 0


async def test_sheet_created_locally_reaches_the_server(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    desk = await open_desk(live_server)
    sheet = customer_factory(name="Åge Ødegård 欧德")
    await desk.create(sheet)

    # When
    await desk.engine.sync_once()

    # Then
    stored = _server_sheet(live_server, str(sheet["id"]))
    assert (stored["name"], stored["version"]) == ("Åge Ødegård 欧德", 1)
    assert desk.store.outbox_counts().pending == 0


async def test_started_engine_syncs_when_woken_after_an_edit(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    desk, sheet = await _desk_with_sheet(live_server, open_desk, customer_factory)
    desk.engine.start()

    # When
    await desk.save_edit(sheet["id"], {"account_manager": "Siri Løvland"})
    desk.engine.wake()

    # Then
    await wait_until(
        lambda: _server_sheet(live_server, sheet["id"])["version"] == 2, "the edit on the server"
    )
    await wait_until(state_is(desk, SyncState.UP_TO_DATE, pending=0), "an empty outbox")
    assert _server_sheet(live_server, sheet["id"])["account_manager"] == "Siri Løvland"


async def test_push_whose_answer_was_lost_is_not_applied_twice(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given: the outbox batch already reached the server once; its answer never came back
    desk, sheet = await _desk_with_sheet(live_server, open_desk, customer_factory)
    await desk.save_edit(sheet["id"], {"organisation": "Statens vegvesen"})
    batch = desk.store.pending_mutations(200)
    first = await desk.client.push(desk.store.device_id, batch)
    assert [r.status for r in first.results] == ["applied"]

    # When
    await desk.engine.sync_once()

    # Then
    assert [[r.status for r in results] for results in desk.wire.push_results[1:]] == [
        ["duplicate"]
    ]
    assert desk.store.outbox_counts().pending == 0
    stored = _server_sheet(live_server, sheet["id"])
    assert (stored["organisation"], stored["version"]) == ("Statens vegvesen", 2)


async def test_answer_lost_in_transit_leaves_the_edit_queued_then_sends_it_once(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    desk, sheet = await _desk_with_sheet(live_server, open_desk, customer_factory)
    await desk.save_edit(sheet["id"], {"location": "Lager 2"})
    desk.wire.lose_next_push_answer = True
    desk.engine.start()

    # When
    await wait_until(has_reported(desk, SyncState.OFFLINE, pending=1), "the lost answer")
    desk.engine.wake()

    # Then
    await wait_until(state_is(desk, SyncState.UP_TO_DATE, pending=0), "the retry")
    statuses = [[r.status for r in results] for results in desk.wire.push_results]
    assert statuses == [["applied"], ["duplicate"]]
    assert _server_sheet(live_server, sheet["id"])["version"] == 2


async def test_a_batch_too_large_for_the_server_is_sent_in_smaller_ones(
    tmp_path: Any, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    from tests.conftest import ServerProcess, seed

    # Given a server that takes bodies of 16 kB at most, and 40 sheets made offline
    db_url = f"sqlite:///{tmp_path / 'small.sqlite'}"
    accounts = seed(db_url)
    process = ServerProcess(db_url, env={"AGENTDESK_MAX_BODY_BYTES": str(16 * 1024)})
    process.start()
    try:
        server = LiveServer("sqlite", db_url, process, accounts)
        desk = await open_desk(server)
        sheets = [customer_factory(location="Møterom, 3. etasje, Storgata 12") for _ in range(40)]
        for sheet in sheets:
            await desk.create(sheet)
        # And one sheet alone larger than the server takes
        huge = customer_factory(devices=[{"computer_name": f"PC-{i:03}"} for i in range(300)])
        await desk.create(huge)
        # When the desk syncs
        await desk.engine.sync_once()
        # Then every sheet that fits reached the server once; the huge one is kept, named
        with server.http("agent") as http:
            total = http.get("/api/v1/customers", params={"limit": 500}).json()["total"]
        assert total == 40
        assert desk.store.outbox_counts().pending == 0
        [issue] = desk.store.issues_for(str(huge["id"]))
        assert issue.state == "rejected"
        assert issue.errors[0][0] == "record" and "larger" in issue.errors[0][1]
        assert desk.store.customer(str(huge["id"])) is not None
    finally:
        process.stop()
