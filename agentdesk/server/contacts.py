"""Contact records as the API and the desks see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agentdesk.domain.contacts import speed_of_answer
from agentdesk.server.models import Contact


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def contact_record(contact: Contact) -> dict[str, Any]:
    """A contact as the API and the desks see it."""
    offered = aware(contact.offered_at)
    answered = aware(contact.answered_at) if contact.answered_at else None
    ended = aware(contact.ended_at) if contact.ended_at else None
    return {
        "id": contact.id,
        "version": contact.version,
        "channel": contact.channel,
        "direction": contact.direction,
        "call_id": contact.call_id,
        "caller_number": contact.caller_number,
        "called_number": contact.called_number,
        "queue": contact.queue,
        "customer_id": contact.customer_id,
        "candidates": list(contact.data.get("candidates", [])),
        "caller_name": contact.data.get("caller_name", ""),
        "tier": contact.tier,
        "state": contact.state,
        "offered_at": offered.isoformat(),
        "answered_at": answered.isoformat() if answered else None,
        "ended_at": ended.isoformat() if ended else None,
        "speed_of_answer_s": speed_of_answer(offered, answered),
        "waited_s": contact.data.get("waited_s"),
        "answered_by": contact.answered_by,
        "hangup_cause": contact.hangup_cause,
    }
