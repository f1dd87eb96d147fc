"""Desk tests: real widgets offscreen, on the qasync loop, against the real server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from keyring.backend import KeyringBackend

from agentdesk.credentials import TokenVault
from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.telephony import add_bridge
from tests.conftest import LiveServer
from ui.qt import QtWidgets, qasync

T = TypeVar("T")
Json = dict[str, Any]


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring service, which the test machine does not run."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture(scope="session")
def qasync_loop(qapp: QtWidgets.QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """One asyncio loop on the Qt event loop for the whole run, as the desk has one."""
    from ui import theme

    theme.apply(qapp)
    qapp.setQuitOnLastWindowClosed(False)  # as the desk runs: windows come and go
    event_loop = qasync.QEventLoop(qapp)
    yield event_loop
    event_loop.run_until_complete(asyncio.sleep(0))
    event_loop.close()


@pytest.fixture
def loop(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    asyncio.set_event_loop(qasync_loop)
    yield qasync_loop
    asyncio.set_event_loop(None)


#: Coroutines that end what a test opened (sessions, windows), run even when it fails.
CLEANUPS: list[Callable[[], Coroutine[Any, Any, None]]] = []


@pytest.fixture
def run(loop: asyncio.AbstractEventLoop) -> Iterator[Callable[[Coroutine[Any, Any, T]], T]]:
    """Run a test's scenario as one coroutine, so the loop keeps running while the
    desk's background work (the sync engine) goes on, as it does in the desk."""

    def runner(coro: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(asyncio.wait_for(coro, timeout=90))

    yield runner
    while CLEANUPS:
        loop.run_until_complete(CLEANUPS.pop()())


async def until(condition: Callable[[], object], what: str, timeout: float = 45.0) -> None:
    """Let the loop run until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault(MemoryKeyring())


def add_customers(server: LiveServer, sheets: list[dict[str, object]]) -> None:
    with server.http("supervisor") as http:
        for sheet in sheets:
            response = http.post("/api/v1/customers", json=sheet)
            assert response.status_code == 201, response.text


def server_sheet(server: LiveServer, customer_id: str) -> dict[str, Any]:
    with server.http("supervisor") as http:
        response = http.get(f"/api/v1/customers/{customer_id}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def pbx(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    engine = make_engine(sqlite_server.db_url)
    with session_factory(engine)() as session, session.begin():
        _bridge, token = add_bridge(session, f"Desk test PBX {uuid.uuid4().hex[:6]}")
    engine.dispose()
    with httpx.Client(
        base_url=sqlite_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def ring(pbx: httpx.Client, number: str, **extra: Any) -> Json:
    body = {"event": "ringing", "call_id": uuid.uuid4().hex, "from": number, **extra}
    response = pbx.post("/api/v1/telephony/events", json=body)
    assert response.status_code == 200, response.text
    contact: Json = response.json()["contact"]
    return contact


def server_contact(server: LiveServer, contact_id: str) -> Json:
    with server.http("supervisor") as http:
        page = http.get("/api/v1/sync/changes", params={"since": 0, "limit": 1000}).json()
    found: Json = next(c["data"] for c in page["changes"] if c["id"] == contact_id)
    return found


def oslo() -> str:
    return f"+4722{uuid.uuid4().int % 900000 + 100000}"
