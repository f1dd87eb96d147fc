"""Messages between two desks through the real server: taken, delivered, acknowledged, called
back; taken while the server is down; delivered to a desk that was offline."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.messages import unread_count
from agentdesk.store.local import LocalStore
from agentdesk.sync.client import Offline
from tests.conftest import LiveServer
from tests.sync.conftest import Desk, DeskFactory

Json = dict[str, Any]
OSLO = dt.timezone(dt.timedelta(hours=1))


def slip(**changes: Any) -> Json:
    """A message as the desk's form sends it, for the South agent."""
    day = dt.datetime.now(OSLO).date() + dt.timedelta(days=1)
    fields: Json = {
        "first_name": "Bjørn",
        "last_name": "Ødegård",
        "for_user": "agent.south",
        "for_name": "Agent South",
        "organisation": "Fjordkraft Drift AS",
        "phone": "+47 55 12 34 56",
        "message": "VPN-en faller ut hver time. Ber om tilbakeringing.",
        "urgency": "urgent",
        "callback_after": dt.datetime.combine(day, dt.time(8), tzinfo=OSLO).isoformat(),
        "callback_before": dt.datetime.combine(day, dt.time(10), tzinfo=OSLO).isoformat(),
        "caller_timezone": "Europe/Oslo",
        "language": "nb",
    }
    fields.update(changes)
    return fields


async def _take(desk: Desk, **changes: Any) -> tuple[str, Json]:
    message_id = str(uuid.uuid4())
    taken: Json = await desk.runner.write(
        desk.store.record_message, message_id, "create", slip(**changes)
    )
    return message_id, taken


async def _step(desk: Desk, message_id: str, op: str, fields: Json) -> Json:
    done: Json = await desk.runner.write(desk.store.record_message, message_id, op, fields)
    return done


def _inbox(store: LocalStore) -> list[Json]:
    return store.messages_for("agent.south", "South")


async def test_a_message_reaches_the_recipients_desk_and_its_steps_come_back(
    live_server: LiveServer, open_desk: DeskFactory
) -> None:
    sender = await open_desk(live_server, "agent", name="north")
    recipient = await open_desk(live_server, "agent_south", name="south")
    # Given the North agent takes a message for the South agent
    message_id, taken = await _take(sender)
    assert taken["phone"] == "+4755123456" and taken["state"] == "new"
    assert sender.store.messages_taken_by("agent.north")[0]["id"] == message_id
    # When both desks sync
    await sender.engine.sync_once()
    await recipient.engine.sync_once()
    # Then the recipient holds it, unread, exactly once
    inbox = [m for m in _inbox(recipient.store) if m["id"] == message_id]
    assert len(inbox) == 1
    assert inbox[0]["taken_by"] == "agent.north"
    south = recipient.store.actor()
    assert south is not None and unread_count(inbox, south) == 1
    # When the recipient acknowledges it and then calls back
    await _step(recipient, message_id, "acknowledge", {"step_id": "s1"})
    await _step(
        recipient, message_id, "called_back", {"step_id": "s2", "outcome": "Ny VPN-profil sendt"}
    )
    await recipient.engine.sync_once()
    await sender.engine.sync_once()
    # Then the sender's desk sees what became of it
    seen = sender.store.message(message_id)
    assert seen is not None
    assert (seen["state"], seen["outcome"]) == ("called_back", "Ny VPN-profil sendt")
    assert [h["what"] for h in seen["history"]] == ["taken", "acknowledged", "called back"]
    assert sender.store.outbox_counts().pending == recipient.store.outbox_counts().pending == 0


async def test_a_message_taken_offline_is_delivered_once_to_a_recipient_who_was_offline(
    sqlite_server: LiveServer, open_desk: DeskFactory
) -> None:
    sender = await open_desk(sqlite_server, "agent", name="north")
    recipient = await open_desk(sqlite_server, "agent_south", name="south")
    await recipient.engine.sync_once()
    # Given the server is down while the message is taken
    await asyncio.to_thread(sqlite_server.process.stop)
    try:
        message_id, taken = await _take(sender)
        assert taken["unsent"] is True  # kept on the desk, marked as not yet sent
        assert sender.store.outbox_counts().pending == 1
        # A bad number is refused at once, naming the field, and nothing is written
        try:
            await _take(sender, phone="55 12 34")
        except ValidationFailed as failed:
            assert failed.by_field()["phone"]
        else:
            raise AssertionError("a number without country code was accepted")
        assert sender.store.outbox_counts().pending == 1
    finally:
        await asyncio.to_thread(sqlite_server.process.start)
    # When the server is back: the sender's desk sends it, and the answer is lost on the way
    sender.wire.lose_next_push_answer = True
    with pytest.raises(Offline):
        await sender.engine.sync_once()
    # Then sending it again delivers nothing twice
    await sender.engine.sync_once()
    assert sender.store.outbox_counts().pending == 0
    assert [r.status for r in sender.wire.push_results[-1]] == ["duplicate"]
    # And the recipient, offline all along, comes back and pulls
    await recipient.engine.sync_once()
    inbox = [m for m in _inbox(recipient.store) if m["id"] == message_id]
    assert len(inbox) == 1
    assert "unsent" not in inbox[0]
    with sqlite_server.http("supervisor") as http:
        listed = [m["id"] for m in http.get("/api/v1/messages").json()]
    assert listed.count(message_id) == 1


async def test_a_message_handed_on_leaves_one_inbox_for_another(
    live_server: LiveServer, open_desk: DeskFactory
) -> None:
    sender = await open_desk(live_server, "agent", name="north")
    first = await open_desk(live_server, "agent_south", name="south")
    engineer = await open_desk(live_server, "engineer", name="engineer")
    message_id, _ = await _take(sender)
    await sender.engine.sync_once()
    await first.engine.sync_once()
    await _step(
        first,
        message_id,
        "hand_on",
        {"step_id": "h1", "to_user": "engineer", "to_name": "Engineer", "note": "On site today"},
    )
    await first.engine.sync_once()
    await engineer.engine.sync_once()
    assert message_id in [m["id"] for m in engineer.store.messages_for("engineer", "North")]
    assert message_id not in [m["id"] for m in _inbox(first.store)]
    held = first.store.message(message_id)
    assert held is not None and held["for_user"] == "engineer"
