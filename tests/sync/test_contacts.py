"""Contact records reach the desk through the same pull as sheets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.telephony import add_bridge
from agentdesk.sync.client import ServerEvent
from agentdesk.sync.engine import Backoff
from agentdesk.sync.events import EventListener
from tests.conftest import LiveServer
from tests.sync.conftest import DeskFactory, wait_until


@pytest.fixture
def pbx(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    engine = make_engine(sqlite_server.db_url)
    with session_factory(engine)() as session, session.begin():
        _bridge, token = add_bridge(session, "Sync test PBX")
    engine.dispose()
    with httpx.Client(
        base_url=sqlite_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def call(pbx: httpx.Client, **body: Any) -> dict[str, Any]:
    response = pbx.post("/api/v1/telephony/events", json=body)
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


async def test_ringing_calls_are_pulled_with_their_tier_and_caller(
    sqlite_server: LiveServer,
    open_desk: DeskFactory,
    pbx: httpx.Client,
    customer_factory: Any,
) -> None:
    # Given a tier A customer and a desk of their department
    number = f"+4722{uuid.uuid4().int % 900000 + 100000}"
    with sqlite_server.http("supervisor") as http:
        sheet = customer_factory(tier="A", phones=[{"label": "office", "number": number}])
        assert http.post("/api/v1/customers", json=sheet).status_code == 201
    desk = await open_desk(sqlite_server)
    # When the customer and an unknown number call, and the desk pulls
    known = call(pbx, event="ringing", call_id="c-1", **{"from": number})
    unknown = call(pbx, event="ringing", call_id="c-2", **{"from": "+47 22 99 88 77"})
    await desk.engine.pull_all()
    # Then both wait on the desk, the known one with its customer and tier
    ringing = {c["id"]: c for c in desk.store.contacts_in_state("ringing")}
    assert set(ringing) == {known["id"], unknown["id"]}
    assert (ringing[known["id"]]["customer_id"], ringing[known["id"]]["tier"]) == (sheet["id"], "A")
    assert ringing[unknown["id"]]["customer_id"] is None


async def test_an_answered_call_leaves_the_waiting_list(
    sqlite_server: LiveServer, open_desk: DeskFactory, pbx: httpx.Client
) -> None:
    # Given a desk that pulled a ringing call
    desk = await open_desk(sqlite_server)
    ringing = call(pbx, event="ringing", call_id="c-3", **{"from": "+47 22 99 88 76"})
    await desk.engine.pull_all()
    assert [c["id"] for c in desk.store.contacts_in_state("ringing")] == [ringing["id"]]
    # When the call is answered and the desk pulls again
    call(pbx, event="answered", call_id="c-3", agent="agent.north")
    await desk.engine.pull_all()
    # Then it is no longer waiting, and the record shows who answered
    assert desk.store.contacts_in_state("ringing") == []
    record = desk.store.contact(ringing["id"])
    assert record is not None
    assert (record["state"], record["answered_by"]) == ("answered", "agent.north")


async def test_a_trainee_desk_receives_no_real_calls(
    sqlite_server: LiveServer, open_desk: DeskFactory, pbx: httpx.Client
) -> None:
    # Given a trainee's desk
    desk = await open_desk(sqlite_server, role="trainee")
    # When a call rings and the desk pulls
    call(pbx, event="ringing", call_id="c-4", **{"from": "+47 22 99 88 75"})
    await desk.engine.pull_all()
    # Then nothing of it reaches the trainee
    assert desk.store.contacts_in_state("ringing", "answered") == []


async def test_the_event_stream_brings_a_new_call_to_the_desk_without_polling(
    sqlite_server: LiveServer, open_desk: DeskFactory, pbx: httpx.Client
) -> None:
    # Given a desk whose engine syncs only when woken, and which follows the event stream
    desk = await open_desk(sqlite_server)
    heard: list[ServerEvent] = []

    def on_event(event: ServerEvent) -> None:
        heard.append(event)
        desk.engine.wake()

    listener = EventListener(desk.client, on_event, heartbeat=1)
    desk.engine.start()
    listener.start()
    try:
        await wait_until(lambda: listener.last_event_id is not None, "the stream to open")
        # When a call rings
        ringing = call(pbx, event="ringing", call_id="c-5", **{"from": "+47 22 99 88 74"})
        # Then the desk hears it and pulls it at once
        await wait_until(
            lambda: [c["id"] for c in desk.store.contacts_in_state("ringing")] == [ringing["id"]],
            "the call on the desk",
        )
        assert any(e.kind == "contact" and e.data["id"] == ringing["id"] for e in heard)
    finally:
        await listener.stop()


async def test_the_listener_resumes_after_the_server_restarts(
    sqlite_server: LiveServer, open_desk: DeskFactory, pbx: httpx.Client
) -> None:
    # Given a desk following the stream, that has heard one call
    desk = await open_desk(sqlite_server)
    heard: list[str] = []
    listener = EventListener(
        desk.client,
        lambda e: heard.append(e.data["call_id"]) if e.kind == "contact" else None,
        heartbeat=1,
        backoff=Backoff(base=0.05, cap=0.3),
    )
    listener.start()
    try:
        await wait_until(lambda: listener.last_event_id is not None, "the stream to open")
        call(pbx, event="ringing", call_id="before")
        await wait_until(lambda: heard == ["before"], "the first call")
        # When the server stops, a call arrives while the desk is cut off, and it comes back
        sqlite_server.process.stop()
        sqlite_server.process.start()
        call(pbx, event="ringing", call_id="during")
        # Then the desk hears the missed call once, and nothing twice
        await wait_until(lambda: "during" in heard, "the missed call")
        assert heard == ["before", "during"]
    finally:
        await listener.stop()
