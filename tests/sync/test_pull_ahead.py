"""While one page of a first sync is stored, the next is already on its way; a failure on
the way loses nothing and stores nothing twice."""

from __future__ import annotations

from typing import Any, cast

import pytest

from agentdesk.sync.client import ServerTrouble
from tests.conftest import LiveServer
from tests.faultproxy import FaultProxy
from tests.server.conftest import create_sheet
from tests.sync.conftest import DeskFactory
from tests.sync.test_faults import Via


async def test_a_page_lost_on_the_way_is_fetched_again_from_the_last_page_stored(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: Any
) -> None:
    with sqlite_server.http("agent") as http:
        for _ in range(20):
            create_sheet(http, customer_factory())
        visible = {
            s["id"] for s in http.get("/api/v1/customers", params={"limit": 500}).json()["items"]
        }
    proxy = FaultProxy(sqlite_server.process.port)
    await proxy.start()
    try:
        desk = await open_desk(
            cast(LiveServer, Via(proxy.url, sqlite_server.accounts)), page_size=7
        )
        # The first page arrives; the second, asked for while the first is stored, fails
        proxy.schedule("ok", "503")
        with pytest.raises(ServerTrouble):
            await desk.engine.pull_all()
        first_cursor = desk.store.cursor()
        assert first_cursor > 0
        assert 0 < desk.store.customer_count() <= 7  # a page holds other records too

        # The next pull starts after the page stored and ends with every sheet once
        await desk.engine.pull_all()
        assert {s.id for s in desk.store.search("", limit=1000)} == visible
        assert desk.store.customer_count() == len(visible)
        assert desk.store.cursor() > first_cursor
    finally:
        await proxy.stop()
