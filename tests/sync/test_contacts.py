"""Contact records reach the desk through the same pull as sheets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
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
    # A generous timeout: a loaded test machine must not turn a slow answer into a failure.
    with httpx.Client(
        base_url=sqlite_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
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


# --- the desk records what happens to a contact ---------------------------------------------


async def test_a_full_call_offered_answered_wrapped_up_reaches_the_server(
    sqlite_server: LiveServer,
    open_desk: DeskFactory,
    pbx: httpx.Client,
    customer_factory: Any,
) -> None:
    # Given a known customer ringing in, pulled to the desk
    number = f"+4722{uuid.uuid4().int % 900000 + 100000}"
    with sqlite_server.http("agent") as http:
        sheet = customer_factory(phones=[{"label": "office", "number": number}])
        assert http.post("/api/v1/customers", json=sheet).status_code == 201
    desk = await open_desk(sqlite_server)
    offered = call(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": number})
    await desk.engine.pull_all()

    # When the agent answers, notes, promises, and wraps up, all on the desk first
    answered_at = dt.datetime.now(dt.UTC)
    due = answered_at + dt.timedelta(days=2)
    seen = await desk.record(offered["id"], "answer", {"answered_at": answered_at.isoformat()})
    me = json.loads(desk.store.meta("user") or "{}")
    assert (seen["state"], seen["owner_id"]) == ("answered", me["id"])
    await desk.record(offered["id"], "note", {"id": str(uuid.uuid4()), "text": "VPN drops"})
    await desk.record(
        offered["id"],
        "promise",
        {"id": str(uuid.uuid4()), "text": "Send the new VPN profile", "due_at": due.isoformat()},
    )
    local = await desk.record(
        offered["id"], "wrap_up", {"category": "network", "outcome": "follow-up", "acw_s": 30}
    )
    assert local["state"] == "ended" and local["wrap_up"]["outcome"] == "follow-up"
    assert desk.store.outbox_counts().pending == 4

    # Then the steps reach the server with the agent's times, and the desk agrees with it
    await desk.engine.sync_once()
    assert desk.store.outbox_counts().pending == 0
    with sqlite_server.http("supervisor") as http:
        changes = http.get("/api/v1/sync/changes", params={"since": 0, "limit": 1000}).json()
    server = next(c["data"] for c in changes["changes"] if c["id"] == offered["id"])
    assert dt.datetime.fromisoformat(server["answered_at"]) == answered_at
    assert server["offered_at"] == offered["offered_at"]
    assert server["speed_of_answer_s"] == pytest.approx(
        (answered_at - dt.datetime.fromisoformat(offered["offered_at"])).total_seconds()
    )
    assert server["ended_at"] is not None
    assert [p["due_at"] for p in server["promises"]] == [due.isoformat()]
    assert server["wrap_up"]["category"] == "network"
    mine = desk.store.contact(offered["id"])
    assert mine is not None
    assert {k: mine[k] for k in ("state", "notes", "promises", "wrap_up")} == {
        k: server[k] for k in ("state", "notes", "promises", "wrap_up")
    }


async def test_a_contact_logged_offline_is_kept_and_sent_when_the_server_returns(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: Any
) -> None:
    desk = await open_desk(sqlite_server)
    await asyncio.to_thread(sqlite_server.process.stop)
    try:
        contact_id = str(uuid.uuid4())
        logged = await desk.record(
            contact_id, "create", {"channel": "walk-in", "caller_name": "Åse Bråten"}
        )
        await desk.record(contact_id, "note", {"id": "n1", "text": "Brought a broken laptop"})
        assert logged["state"] == "answered"
        assert desk.store.outbox_counts().pending == 2
    finally:
        await asyncio.to_thread(sqlite_server.process.start)
    await desk.engine.sync_once()
    assert desk.store.outbox_counts().pending == 0
    record = desk.store.contact(contact_id)
    assert record is not None and record["version"] == 2
    assert [n["text"] for n in record["notes"]] == ["Brought a broken laptop"]


async def test_when_two_desks_answer_one_call_the_second_learns_who_has_it(
    sqlite_server: LiveServer, open_desk: DeskFactory, pbx: httpx.Client
) -> None:
    first = await open_desk(sqlite_server, name="first")
    second = await open_desk(sqlite_server, "supervisor", name="second")
    ringing = call(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": "+4722998877"})
    await first.engine.pull_all()
    await second.engine.pull_all()

    await first.record(ringing["id"], "answer", {})
    await second.record(ringing["id"], "answer", {})
    await first.engine.sync_once()
    await second.engine.sync_once()

    seen = second.store.contact(ringing["id"])
    assert seen is not None and seen["owner_name"] == "Agent.North"
    refusals = second.store.contact_refusals(ringing["id"])
    assert [r.errors for r in refusals] == [(("owner", "already answered by Agent.North"),)]
    await second.runner.write(second.store.resolve, refusals[0].mutation_id, keep_mine=False)
    assert second.store.contact_refusals(ringing["id"]) == []
