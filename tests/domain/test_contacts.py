"""Queue order and the answer target, with the time passed in (no waiting)."""

from __future__ import annotations

import pytest

from agentdesk.domain.contacts import (
    RING_PERIOD_S,
    Urgency,
    WaitingContact,
    answer_urgency,
    queue_order,
    ring_count,
)


def _contact(cid: str, tier: str, offered_at: float, channel: str = "phone") -> WaitingContact:
    return WaitingContact(id=cid, channel=channel, tier=tier, offered_at=offered_at, caller=cid)  # type: ignore[arg-type]


def test_tier_a_waits_before_tier_b_whatever_the_arrival() -> None:
    # Given B callers who arrived first and A callers who arrived later
    contacts = [
        _contact("b1", "B", 0),
        _contact("b2", "B", 1),
        _contact("a1", "A", 5),
        _contact("a2", "A", 3),
    ]
    # When the queue is ordered
    order = [c.id for c in queue_order(contacts)]
    # Then all A come first, each tier first come first served
    assert order == ["a2", "a1", "b1", "b2"]


def test_equal_arrival_times_keep_a_stable_order() -> None:
    # Given two B callers offered at the same instant
    contacts = [_contact("y", "B", 10), _contact("x", "B", 10)]
    # When ordered twice, in either input order
    # Then the order is the same
    assert [c.id for c in queue_order(contacts)] == ["x", "y"]
    assert [c.id for c in queue_order(reversed(contacts))] == ["x", "y"]


@pytest.mark.parametrize(
    ("waited", "ring"),
    [
        (0.0, 1),
        (RING_PERIOD_S - 0.01, 1),
        (RING_PERIOD_S, 2),
        (2 * RING_PERIOD_S, 3),
        (3 * RING_PERIOD_S + 0.5, 4),
        (-1.0, 1),
    ],
)
def test_ring_count_follows_the_ring_period(waited: float, ring: int) -> None:
    assert ring_count(waited) == ring


@pytest.mark.parametrize(
    ("ring", "urgency"),
    [
        (1, Urgency.ON_TIME),
        (2, Urgency.DUE),
        (3, Urgency.DUE),
        (4, Urgency.LATE),
        (9, Urgency.LATE),
    ],
)
def test_amber_at_the_second_ring_red_after_the_third(ring: int, urgency: Urgency) -> None:
    assert answer_urgency(ring) is urgency


def test_a_waiting_call_turns_amber_then_red_as_the_clock_moves() -> None:
    # Given a call offered at t=100 (an injected clock, in seconds)
    call = _contact("c", "B", 100.0)
    # When time passes, Then its colour follows the rings
    assert call.urgency(100.0) is Urgency.ON_TIME
    assert call.urgency(100.0 + RING_PERIOD_S) is Urgency.DUE
    assert call.urgency(100.0 + 3 * RING_PERIOD_S) is Urgency.LATE


def test_contacts_that_do_not_ring_are_never_late_by_rings() -> None:
    # Given an e-mail waiting for a minute
    mail = _contact("m", "A", 0.0, channel="email")
    # Then it has no ring urgency
    assert mail.urgency(60.0) is Urgency.ON_TIME
