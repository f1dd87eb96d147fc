"""Queue order and the answer target, with the time passed in (no waiting)."""

from __future__ import annotations

import datetime as dt

import pytest

from agentdesk.domain.contacts import (
    RING_PERIOD_S,
    Urgency,
    WaitingContact,
    answer_urgency,
    check_note,
    check_promise,
    check_wrap_up,
    queue_order,
    ring_count,
    speed_of_answer,
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


# --- the contact record ---------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def test_a_promise_with_a_concrete_future_time_is_accepted() -> None:
    # Given a promise with text and a due time tomorrow
    errors = check_promise("A replacement disk is installed", NOW + dt.timedelta(days=1), now=NOW)
    # Then nothing is wrong with it
    assert errors == []


@pytest.mark.parametrize(
    "text", ["I'll fix it ASAP", "as soon as possible", "我们会尽快处理", "Vi ordner det snarest"]
)
def test_a_promise_that_says_asap_is_refused_with_the_reason(text: str) -> None:
    # Given a promise phrased with a vague time, in any of the three languages
    errors = check_promise(text, NOW + dt.timedelta(hours=2), now=NOW)
    # Then the text is refused and the agent is told to give a time
    assert [e.field for e in errors] == ["text"]
    assert "is not a time" in errors[0].message


def test_words_that_only_contain_asap_are_not_flagged() -> None:
    # Given text where the letters a-s-a-p appear inside another word
    errors = check_promise("Send the wasapi driver log", NOW + dt.timedelta(hours=1), now=NOW)
    # Then it is accepted
    assert errors == []


def test_a_promise_needs_a_due_time_in_the_future() -> None:
    # Given promises without a time, with a past time and with a naive time
    missing = check_promise("Call back", None, now=NOW)
    past = check_promise("Call back", NOW - dt.timedelta(minutes=1), now=NOW)
    naive = check_promise("Call back", dt.datetime(2030, 1, 1), now=NOW)
    # Then each says what the due field expects
    assert [e.field for e in missing] == ["due_at"] and "concrete" in missing[0].message
    assert "future" in past[0].message
    assert "time zone" in naive[0].message


def test_an_empty_promise_text_is_refused() -> None:
    assert [e.field for e in check_promise("  ", NOW + dt.timedelta(hours=1), now=NOW)] == ["text"]


def test_notes_must_say_something_and_stay_readable() -> None:
    assert check_note("Customer confirmed the printer works again.") == []
    assert check_note("   ")[0].field == "text"
    assert "too long" in check_note("x" * 5000)[0].message


def test_wrap_up_names_category_and_outcome() -> None:
    assert check_wrap_up("printing", "solved", None) == []
    errors = check_wrap_up("coffee", "maybe", None)
    assert {e.field for e in errors} == {"category", "outcome"}


def test_a_hand_over_names_who_takes_it_over() -> None:
    # Given an escalated contact with nobody named
    errors = check_wrap_up("network", "escalated", "  ")
    # Then the wrap-up asks for the person (first-question responsibility)
    assert [e.field for e in errors] == ["handed_to"]
    assert check_wrap_up("network", "escalated", "OPS supervisor Per Olsen") == []


def test_speed_of_answer_is_the_wait_before_the_answer() -> None:
    assert speed_of_answer(NOW, NOW + dt.timedelta(seconds=7.5)) == 7.5
    assert speed_of_answer(NOW, None) is None
