"""With the server gone the desk keeps working; when it is back every edit lands once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agentdesk.sync.engine import SyncState
from tests.conftest import LiveServer
from tests.server.conftest import all_changes_since, create_sheet, newest_cursor
from tests.sync.conftest import DeskFactory, state_is, wait_until

SheetFactory = Callable[..., dict[str, Any]]


async def test_edits_made_offline_reach_the_server_exactly_once_when_it_returns(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given: a synced desk, then the server goes away
    with sqlite_server.http("agent") as http:
        sheets = [create_sheet(http, customer_factory()) for _ in range(3)]
        since = newest_cursor(http)
    desk = await open_desk(sqlite_server)
    desk.engine.start()
    await wait_until(state_is(desk, SyncState.UP_TO_DATE), "the first sync")
    await asyncio.to_thread(sqlite_server.process.stop)

    # When: three edits and one new sheet are saved while offline
    edits = [
        {"location": "Hjemmekontor, Tromsø"},
        {"organisation": "上海分公司"},
        {"account_manager": "Ольга Иванова"},
    ]
    for sheet, edit in zip(sheets, edits, strict=True):
        await desk.save_edit(sheet["id"], edit)
    new_sheet = customer_factory(name="Nils Ødegård 新")
    await desk.create(new_sheet)
    desk.engine.wake()

    # Then: the desk says it is offline with four edits waiting, and still works
    await wait_until(state_is(desk, SyncState.OFFLINE, pending=4), "the offline state")
    assert [s.id for s in desk.store.search("上海分公司")] == [sheets[1]["id"]]
    assert [s.id for s in desk.store.search("Nils Ødegård")] == [new_sheet["id"]]
    local = desk.store.customer(sheets[0]["id"])
    assert local is not None and local.location == "Hjemmekontor, Tromsø"

    # When: the server comes back on the same port and database
    await asyncio.to_thread(sqlite_server.process.start)
    desk.engine.wake()

    # Then
    await wait_until(state_is(desk, SyncState.UP_TO_DATE, pending=0), "the outbox to drain")
    with sqlite_server.http("agent") as http:
        for sheet, edit in zip(sheets, edits, strict=True):
            stored = http.get(f"/api/v1/customers/{sheet['id']}").json()
            assert stored["version"] == 2
            assert {k: stored[k] for k in edit} == edit
        found = http.get("/api/v1/customers", params={"q": "Nils Ødegård"}).json()
        assert [item["id"] for item in found["items"]] == [new_sheet["id"]]
        assert found["items"][0]["version"] == 1
        changed = [c["id"] for c in all_changes_since(http, since)]
    assert sorted(changed) == sorted([*(s["id"] for s in sheets), new_sheet["id"]])


async def test_offline_desk_keeps_saving_edits_to_the_same_sheet(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    with sqlite_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    desk = await open_desk(sqlite_server)
    await desk.engine.sync_once()
    await asyncio.to_thread(sqlite_server.process.stop)
    desk.engine.start()
    await wait_until(state_is(desk, SyncState.OFFLINE), "the offline state")

    # When
    await desk.save_edit(sheet["id"], {"location": "Rom 1"})
    await desk.save_edit(sheet["id"], {"location": "Rom 2", "tier": "A"})
    await asyncio.to_thread(sqlite_server.process.start)
    desk.engine.wake()

    # Then
    await wait_until(state_is(desk, SyncState.UP_TO_DATE, pending=0), "the outbox to drain")
    with sqlite_server.http("agent") as http:
        stored = http.get(f"/api/v1/customers/{sheet['id']}").json()
    assert (stored["location"], stored["tier"], stored["version"]) == ("Rom 2", "A", 3)
    assert desk.store.outbox_counts().conflicts == 0
