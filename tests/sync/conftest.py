"""A real desk for sync tests: local store, store runner, API client and sync engine.

The desk talks HTTP to the real server process. Its transport only watches the wire (and,
when asked, loses the server's answer to a push after the server has processed it), so the
engine sees exactly what a desk on a flaky network would.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.store.local import LocalStore
from agentdesk.store.runner import StoreRunner
from agentdesk.sync.client import ApiClient
from agentdesk.sync.engine import Backoff, SyncEngine, SyncState, SyncStatus
from agentdesk.wire import MutationResult, PushResponse
from tests.conftest import LiveServer

Json = dict[str, Any]


class WireTap(httpx.AsyncBaseTransport):
    """The real HTTP transport, noting every push answer; can lose the next one in transit."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.push_results: list[list[MutationResult]] = []
        self.lose_next_push_answer = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path != "/api/v1/sync/push":
            return response
        body = await response.aread()
        if response.status_code == 200:
            self.push_results.append(PushResponse.model_validate_json(body).results)
        if self.lose_next_push_answer:
            self.lose_next_push_answer = False
            raise httpx.ReadError("connection reset while reading the answer", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Desk:
    """One signed-in desk with its own store and device id."""

    store: LocalStore
    runner: StoreRunner
    client: ApiClient
    engine: SyncEngine
    wire: WireTap
    statuses: list[SyncStatus] = field(default_factory=list)
    saved_refresh_tokens: list[str] = field(default_factory=list)

    async def save_edit(self, customer_id: str, changes: Json) -> None:
        await self.runner.write(self.store.save_edit, customer_id, changes)

    async def create(self, sheet: Json) -> None:
        await self.runner.write(self.store.create_customer, sheet)

    async def record(self, contact_id: str, op: str, fields: Json) -> Json:
        record: Json = await self.runner.write(self.store.record_contact, contact_id, op, fields)
        return record

    async def resolve(self, mutation_id: str, *, keep_mine: bool) -> None:
        await self.runner.write(self.store.resolve, mutation_id, keep_mine=keep_mine)


DeskFactory = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def open_desk(tmp_path: Path) -> AsyncIterator[DeskFactory]:
    """Opens desks signed in to a server; everything is closed after the test."""
    opened: list[Desk] = []

    async def open_(
        server: LiveServer, role: str = "agent", *, page_size: int = 500, name: str = "desk"
    ) -> Desk:
        store = LocalStore(tmp_path / f"{name}-{len(opened)}.sqlite")
        wire = WireTap()
        saved: list[str] = []
        client = ApiClient(server.url, transport=wire, on_refresh_token=saved.append)
        engine = SyncEngine(
            StoreRunner(store),
            client,
            page_size=page_size,
            poll_interval=3600,  # only sync when a test wakes the engine
            backoff=Backoff(base=0.05, cap=0.2),
        )
        desk = Desk(store, engine.runner, client, engine, wire, saved_refresh_tokens=saved)
        engine.on_status(desk.statuses.append)
        opened.append(desk)
        account = server.accounts[role]
        user = await client.login(account.username, account.password)
        store.set_meta("user", user.model_dump_json())  # as the desk does on sign-in
        return desk

    yield open_
    for desk in opened:
        await desk.engine.stop()
        await desk.client.aclose()
        desk.runner.close()


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, *, limit: float = 30.0
) -> None:
    """Poll ``condition`` until it holds; the limit only stops a hung test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


def state_is(desk: Desk, state: SyncState, *, pending: int | None = None) -> Callable[[], bool]:
    def check() -> bool:
        status = desk.engine.status
        return status.state is state and (pending is None or status.pending == pending)

    return check


def has_reported(desk: Desk, state: SyncState, *, pending: int | None = None) -> Callable[[], bool]:
    """Whether the engine ever reported ``state`` (it may have moved on since)."""

    def check() -> bool:
        return any(
            s.state is state and (pending is None or s.pending == pending) for s in desk.statuses
        )

    return check
