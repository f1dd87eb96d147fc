"""A new desk's first sync pulls every sheet its user may see, page by page."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from agentdesk.sync.engine import SyncState
from tests.conftest import LiveServer
from tests.server.conftest import create_sheet
from tests.sync.conftest import DeskFactory

SheetFactory = Callable[..., dict[str, Any]]


def _visible_ids(live_server: LiveServer, role: str) -> set[str]:
    with live_server.http(role) as http:
        body = http.get("/api/v1/customers", params={"limit": 500}).json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _seed(live_server: LiveServer, customer_factory: SheetFactory, count: int) -> list[str]:
    with live_server.http("agent") as http:
        return [create_sheet(http, customer_factory())["id"] for _ in range(count)]


async def test_first_sync_pulls_every_visible_sheet_and_nothing_else(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    _seed(live_server, customer_factory, 30)
    with live_server.http("agent_south") as south:
        hidden = create_sheet(south, customer_factory(department="South"))
    with live_server.http("supervisor") as supervisor:
        unassigned = create_sheet(supervisor, customer_factory(department=""))
    desk = await open_desk(live_server, page_size=7)

    # When
    await desk.engine.sync_once()

    # Then
    visible = _visible_ids(live_server, "agent")
    local = {s.id for s in desk.store.search("", limit=1000)}
    assert local == visible
    assert unassigned["id"] in local
    assert hidden["id"] not in local
    assert desk.engine.status.state is SyncState.UP_TO_DATE
    assert desk.engine.status.progress is None
    assert desk.engine.status.last_synced is not None


async def test_first_sync_reports_progress_over_several_pages(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    _seed(live_server, customer_factory, 30)
    total = len(_visible_ids(live_server, "agent"))
    desk = await open_desk(live_server, page_size=7)

    # When
    await desk.engine.sync_once()

    # Then
    progress = [s.progress for s in desk.statuses if s.progress is not None]
    pages = -(-total // 7)
    assert progress == [(7 * n, total) for n in range(1, pages)]


async def test_local_search_works_after_the_first_sync(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    unique = uuid.uuid4().hex[:6]
    local_number = "65" + "".join(random.choice("0123456789") for _ in range(6))
    ip = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    sheet = customer_factory(
        name=f"李娜 Søreide {unique}",
        phones=[{"label": "mobile", "number": f"+86 10 {local_number}"}],
        organisation=f"Тромсø Kommune {unique}",
        devices=[{"computer_name": f"LN-{unique}", "ip_addresses": [ip]}],
    )
    with live_server.http("agent") as http:
        create_sheet(http, sheet)
    desk = await open_desk(live_server)
    await desk.engine.sync_once()

    # When
    queries = [
        f"李娜 {unique}",
        f"søreide {unique}",
        f"тромсø {unique}",
        f"10 {local_number[:4]} {local_number[4:]}",
        f"ln-{unique}",
        ip,
    ]
    found = {query: [s.id for s in desk.store.search(query)] for query in queries}

    # Then
    assert found == {query: [sheet["id"]] for query in queries}
    summary = desk.store.search(f"ln-{unique}")[0]
    assert summary.name == sheet["name"]
    assert summary.computers == f"LN-{unique}"
