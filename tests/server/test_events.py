"""The event stream: contacts and change pokes reach desks at once, resumably, only if theirs."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.telephony import add_bridge
from tests.conftest import LiveServer, ServerProcess
from tests.server.conftest import ClientFor, create_sheet


@dataclass(frozen=True)
class Sse:
    id: int
    kind: str
    data: dict[str, Any]


class SseReader:
    """Reads a server-sent event stream on a thread of its own."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.events: queue.Queue[Sse] = queue.Queue()
        self.ready = threading.Event()
        self._client = httpx.Client(base_url=url, headers=headers, timeout=None)
        self._response: httpx.Response | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.ready.wait(10), "the stream did not open"

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            # Keep-alives every second let this thread notice that the test closed it.
            with self._client.stream("GET", "/api/v1/events?heartbeat=1") as response:
                assert response.status_code == 200
                self._response = response
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("retry:"):
                        self.ready.set()
                    if line == "":
                        if "data" in fields and fields.get("event") != "hello":
                            self.events.put(
                                Sse(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                            )
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.strip()
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test

    def next(self, timeout: float = 10.0) -> Sse:
        return self.events.get(timeout=timeout)

    def next_matching(self, predicate: Any, timeout: float = 10.0) -> Sse:
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if predicate(event):
                return event

    def none_within(self, seconds: float) -> bool:
        try:
            self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._client.close()
        assert not self._thread.is_alive(), "the stream did not close"


@pytest.fixture(scope="module")
def bridge_token(live_server: LiveServer) -> str:
    engine = make_engine(live_server.db_url)
    with session_factory(engine)() as session, session.begin():
        _bridge, token = add_bridge(session, f"Events PBX {uuid.uuid4().hex[:6]}")
    engine.dispose()
    return token


@pytest.fixture
def reader_for(live_server: LiveServer) -> Iterator[Any]:
    readers: list[SseReader] = []

    def open_reader(role: str = "agent", last: int | None = None, url: str = "") -> SseReader:
        reader = SseReader(url or live_server.url, live_server.token(role), last)
        readers.append(reader)
        return reader

    yield open_reader
    for reader in readers:
        reader.close()


def ring(server_url: str, token: str, caller: str = "+47 22 99 00 00") -> dict[str, Any]:
    response = httpx.post(
        f"{server_url}/api/v1/telephony/events",
        headers={"Authorization": f"Bearer {token}"},
        json={"event": "ringing", "call_id": uuid.uuid4().hex, "from": caller},
    )
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


def test_a_new_call_reaches_an_open_stream(
    live_server: LiveServer, bridge_token: str, reader_for: Any
) -> None:
    # Given a desk listening
    reader = reader_for("agent")
    # When a call rings
    contact = ring(live_server.url, bridge_token)
    # Then the desk hears of it with the whole record
    event = reader.next_matching(lambda e: e.kind == "contact" and e.data["id"] == contact["id"])
    assert event.data["state"] == "ringing"
    assert event.data["caller_number"] == "+4722990000"


def test_a_reconnecting_desk_gets_exactly_what_it_missed(
    live_server: LiveServer, bridge_token: str, reader_for: Any
) -> None:
    # Given a desk that heard two calls and then lost its connection
    first = reader_for("agent")
    seen = [ring(live_server.url, bridge_token)["id"] for _ in range(2)]
    heard = [first.next_matching(lambda e, i=i: e.data.get("id") == i) for i in seen]
    last_id = heard[-1].id
    first.close()
    # When three more calls ring while it is away, and it reconnects with Last-Event-ID
    missed = [ring(live_server.url, bridge_token)["id"] for _ in range(3)]
    again = reader_for("agent", last=last_id)
    # Then it gets those three, in order, and nothing it had already
    replay = [again.next() for _ in range(3)]
    assert [e.data["id"] for e in replay] == missed
    assert all(e.id > last_id for e in replay)
    assert [e.id for e in replay] == sorted(e.id for e in replay)
    assert again.none_within(0.5)


def test_a_desk_hears_only_its_own_departments_contacts(
    live_server: LiveServer,
    bridge_token: str,
    reader_for: Any,
    client_for: ClientFor,
    customer_factory: Any,
) -> None:
    # Given a North customer, and desks of North, South and a trainee listening
    number = f"+4722{uuid.uuid4().int % 900000 + 100000}"
    create_sheet(
        client_for("supervisor"),
        customer_factory(department="North", phones=[{"label": "office", "number": number}]),
    )
    north, south, trainee = reader_for("agent"), reader_for("agent_south"), reader_for("trainee")
    # When the North customer calls
    contact = ring(live_server.url, bridge_token, caller=number)
    # Then North hears it, South and the trainee do not
    assert north.next_matching(lambda e: e.data.get("id") == contact["id"]).kind == "contact"
    assert south.none_within(1.0)
    assert trainee.none_within(0.2)


def test_a_changed_sheet_pokes_desks_to_pull(
    live_server: LiveServer, reader_for: Any, client_for: ClientFor, customer_factory: Any
) -> None:
    # Given a desk listening
    reader = reader_for("agent")
    # When a supervisor creates a North sheet
    created = create_sheet(client_for("supervisor"), customer_factory(department="North"))
    # Then a "changes" event tells the desk to pull
    event = reader.next_matching(lambda e: e.kind == "changes")
    assert event.data["seq"] >= 1
    assert created["department"] == "North"


def test_the_stream_needs_a_signed_in_user(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/api/v1/events")
    garbage = httpx.get(
        f"{live_server.url}/api/v1/events", headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status_code == garbage.status_code == 401


def test_an_event_posted_to_one_server_reaches_a_desk_of_another(
    live_server: LiveServer, bridge_token: str, reader_for: Any
) -> None:
    if live_server.backend != "postgresql":
        pytest.skip("the embedded SQLite server is a single process")
    # Given a second server process on the same PostgreSQL database
    other = ServerProcess(live_server.db_url)
    other.start()
    try:
        reader = reader_for("agent", url=other.url)
        # When a call is posted to the first server
        started = time.monotonic()
        contact = ring(live_server.url, bridge_token)
        # Then the desk of the second hears it, well before its 10 s safety poll
        event = reader.next_matching(lambda e: e.data.get("id") == contact["id"], timeout=5)
        assert event.kind == "contact"
        assert time.monotonic() - started < 5
    finally:
        other.stop()
