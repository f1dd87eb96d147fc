"""The call simulator drives the real ingress like a phone system would."""

from __future__ import annotations

import asyncio
import json
import random
import uuid

import httpx
import pytest
from sqlalchemy import select

from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.models import Contact
from agentdesk.server.telephony import add_bridge
from agentdesk.simulator import CallSimulator, Traffic, known_callers, unknown_caller
from tests.conftest import ROOT, LiveServer

DEMO = ROOT / "customer_profiles" / "demo" / "customers.json"


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real HTTP transport, noting the id of every call that starts ringing."""

    def __init__(self) -> None:
        super().__init__()
        self.ringing: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if body.get("event") == "ringing" and body["call_id"] not in self.ringing:
            self.ringing.append(body["call_id"])
        return await super().handle_async_request(request)


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    engine = make_engine(live_server.db_url)
    with session_factory(engine)() as session, session.begin():
        _bridge, value = add_bridge(session, f"Simulated PBX {uuid.uuid4().hex[:6]}")
    engine.dispose()
    return value


def _contacts(db_url: str, call_ids: list[str]) -> list[Contact]:
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(Contact).where(Contact.call_id.in_(call_ids))))
    engine.dispose()
    return rows


def test_known_callers_are_every_demo_number_in_two_forms() -> None:
    callers = known_callers(DEMO)
    numbers = {c.number for c in callers}
    assert len(callers) >= 2 * 45
    assert any(n.startswith("+86") for n in numbers) and any(n.startswith("0047") for n in numbers)


def test_unknown_callers_have_valid_numbers() -> None:
    import phonenumbers

    rng = random.Random(7)
    for _ in range(50):
        number = unknown_caller(rng).number
        assert phonenumbers.is_valid_number(phonenumbers.parse(number, None)), number


def test_unanswered_calls_are_abandoned_and_answered_ones_end(
    live_server: LiveServer, token: str
) -> None:
    # Given fast traffic: 10 calls, callers who wait a fraction of a second
    transport = RecordingTransport()
    traffic = Traffic(mean_gap=0.02, patience=(0.3, 0.5), talk=(0.05, 0.1), rng=random.Random(42))
    simulator = CallSimulator(
        live_server.url, token, known_callers(DEMO), traffic, transport=transport
    )

    async def agent_answers_three() -> None:
        answered: set[str] = set()
        async with httpx.AsyncClient(
            base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}
        ) as pbx:
            while len(answered) < 3:
                for call_id in transport.ringing[:3]:
                    if call_id not in answered:
                        response = await pbx.post(
                            "/api/v1/telephony/events",
                            json={"event": "answered", "call_id": call_id, "agent": "ingrid"},
                        )
                        assert response.status_code == 200
                        answered.add(call_id)
                await asyncio.sleep(0.01)

    async def scenario() -> None:
        try:
            await asyncio.gather(simulator.run(count=10), agent_answers_three())
        finally:
            await simulator.aclose()

    # When the simulator runs while an agent answers the first three calls
    asyncio.run(scenario())
    # Then every call reached the server once, three ended after talk, the rest were abandoned
    tally = simulator.tally
    assert (tally.offered, tally.ended, tally.abandoned, tally.errors) == (10, 3, 7, 0)
    contacts = _contacts(live_server.db_url, transport.ringing)
    states = sorted(c.state for c in contacts)
    assert states == ["abandoned"] * 7 + ["ended"] * 3
    assert all(c.data["waited_s"] >= 0.3 for c in contacts if c.state == "abandoned")


def test_a_server_that_is_down_is_counted_not_fatal() -> None:
    # Given nothing listening on the port
    from tests.conftest import free_port

    simulator = CallSimulator(
        f"http://127.0.0.1:{free_port()}", "token", [], Traffic(mean_gap=0.01, rng=random.Random(1))
    )

    async def scenario() -> None:
        try:
            await simulator.run(count=3)
        finally:
            await simulator.aclose()

    # When it tries to post calls
    asyncio.run(scenario())
    # Then it counts the failures and stops
    assert (simulator.tally.offered, simulator.tally.errors) == (0, 3)
