"""Starting, waking and stopping the engine."""

from __future__ import annotations

import asyncio

from agentdesk.sync.engine import SyncState
from tests.conftest import LiveServer
from tests.sync.conftest import DeskFactory, has_reported, wait_until


async def test_stop_right_after_a_wake_up_stops_the_engine(
    live_server: LiveServer, open_desk: DeskFactory
) -> None:
    # Given: an idle engine; it reports "up to date" and goes straight to waiting
    desk = await open_desk(live_server)
    task = desk.engine.start()
    await wait_until(has_reported(desk, SyncState.UP_TO_DATE), "the first sync")

    # When: an edit wakes it and the desk closes at once
    desk.engine.wake()
    stopping = asyncio.create_task(desk.engine.stop())

    # Then
    await wait_until(stopping.done, "stop() to return", limit=10)
    assert task.done()
