"""Garbled input from the network is reported and skipped, never a stopped sync: a malformed
event on the event stream, and an unreadable record in a page of changes."""

from __future__ import annotations

import asyncio
from typing import Any

from agentdesk.store.local import LocalStore
from agentdesk.sync.client import ApiClient, ServerEvent
from agentdesk.sync.events import EventListener
from agentdesk.wire import Change, ChangesPage
from tests.conftest import LiveServer
from tests.faultproxy import FaultProxy
from tests.server.conftest import create_sheet
from tests.sync.conftest import wait_until


async def test_a_malformed_event_is_skipped_and_the_stream_goes_on(
    sqlite_server: LiveServer, customer_factory: Any
) -> None:
    proxy = FaultProxy(sqlite_server.process.port)
    await proxy.start()
    client = ApiClient(proxy.url)
    heard: list[ServerEvent] = []
    listener = EventListener(client, heard.append)
    try:
        account = sqlite_server.accounts["agent"]
        await client.login(account.username, account.password)
        proxy.schedule("garble")
        listener.start()
        await wait_until(lambda: listener.malformed == 1, "the garbled event")
        # A real change after it still arrives, on the same stream
        with sqlite_server.http("agent") as http:
            await asyncio.to_thread(create_sheet, http, customer_factory())
        await wait_until(lambda: any(e.kind == "changes" for e in heard), "the real event")
        assert proxy.injected["garble"] == 1
        assert all(e.id != 4242 for e in heard if e.kind != "malformed")
        assert listener.last_event_id is not None and listener.last_event_id != 4242
    finally:
        await listener.stop()
        await client.aclose()
        await proxy.stop()


def test_an_unreadable_record_in_a_page_is_skipped_and_reported(
    tmp_path: Any, customer_factory: Any
) -> None:
    store = LocalStore(tmp_path / "desk.sqlite")
    try:
        good = [customer_factory() for _ in range(2)]
        garbled = {"id": "c-garbled", "phones": "not a list", "tier": "Z"}
        changes = [
            Change(seq=1, entity="customer", id=good[0]["id"], version=1, data=good[0]),
            Change(seq=2, entity="customer", id="c-garbled", version=1, data=garbled),
            Change(seq=3, entity="contact", id="k-1", version=1, data={"state": ["?"]}),
            Change(seq=4, entity="customer", id=good[1]["id"], version=1, data=good[1]),
        ]
        touched = store.apply_changes(
            ChangesPage(changes=changes, cursor=4, has_more=False, remaining=0)
        )
        assert touched == {good[0]["id"], good[1]["id"]}
        assert store.cursor() == 4
        skipped = store.unreadable_changes()
        assert [(s["seq"], s["id"]) for s in skipped] == [(2, "c-garbled"), (3, "k-1")]
        assert all(s["problem"] for s in skipped)
    finally:
        store.close()
