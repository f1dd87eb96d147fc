"""What happens to a contact record: answer, end, wrap-up, notes, promises and links.

The same rules run on the desk and on the server, so every step takes the time as an
argument; these tests use fixed times and never the wall clock.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agentdesk.domain.contacts import (
    CATEGORIES,
    CHANNELS,
    OUTCOMES,
    Actor,
    ContactRefused,
    apply_op,
    history_matches,
    new_contact_record,
    open_promises,
    parse_time,
)
from agentdesk.domain.errors import ValidationFailed

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)

KARI = Actor(user_id="u-kari", username="kari", full_name="Kari Nordmann")
OLA = Actor(user_id="u-ola", username="ola", full_name="Ola Hansen")
PER = Actor(user_id="u-per", username="per", full_name="Per Olsen", supervisor=True)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _ringing(offered_at: dt.datetime = T0) -> dict[str, Any]:
    """A phone call as the phone system reports it: ringing, nobody owns it yet."""
    return {
        "id": "c-1",
        "channel": "phone",
        "direction": "in",
        "call_id": "call-77",
        "caller_number": "+47 22 33 44 55",
        "called_number": "+47 815 00 000",
        "queue": "helpdesk",
        "customer_id": None,
        "candidates": ["cust-1", "cust-2"],
        "caller_name": "",
        "tier": "B",
        "state": "ringing",
        "offered_at": _iso(offered_at),
        "answered_at": None,
        "ended_at": None,
        "waited_s": None,
        "answered_by": "",
        "hangup_cause": "",
        "owner_id": None,
        "owner_name": "",
        "notes": [],
        "promises": [],
        "wrap_up": None,
    }


def _answered(actor: Actor = KARI, at: dt.datetime = T0 + 8 * SECOND) -> dict[str, Any]:
    """A call ringing since T0 and answered by ``actor`` at ``at``."""
    return apply_op(_ringing(), "answer", {}, actor, now=at)


def _fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in failed.value.errors]


# --- parse_time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-23T10:30:00+01:00",
        "2026-11-23T09:30:00Z",
        "2026-11-23T17:30:00+08:00",
        dt.datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Oslo")),
    ],
)
def test_a_time_with_an_offset_is_read_as_the_same_instant_in_utc(value: Any) -> None:
    # Given a time written with some offset (or Z)
    # When it is parsed
    parsed = parse_time(value, "when")
    # Then it is that instant, expressed in UTC
    assert parsed == dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "value",
    ["2026-11-23T09:30:00", dt.datetime(2026, 11, 23, 9, 30), "tomorrow morning", "", None],
)
def test_a_time_without_an_offset_or_unreadable_is_refused_naming_the_field(value: Any) -> None:
    # Given a naive time, words, or nothing at all
    # When it is parsed for the field "when"
    with pytest.raises(ValidationFailed) as failed:
        parse_time(value, "when")
    # Then the error names that field
    assert _fields_of(failed) == ["when"]


# --- answer ---------------------------------------------------------------------------------


def test_answering_a_ringing_call_makes_the_actor_its_owner() -> None:
    # Given a call ringing since T0
    record = _ringing()
    # When Kari answers it eight seconds later
    after = apply_op(record, "answer", {}, KARI, now=T0 + 8 * SECOND)
    # Then it is answered by her, at that moment, and she owns it
    assert after["state"] == "answered"
    assert after["answered_at"] == _iso(T0 + 8 * SECOND)
    assert after["answered_by"] == "kari"
    assert after["owner_id"] == "u-kari"
    assert after["owner_name"] == "Kari Nordmann"


def test_an_answer_time_before_the_call_was_offered_is_moved_to_the_offer() -> None:
    # Given a call offered at T0 and a desk whose clock runs behind
    record = _ringing()
    # When the answer arrives stamped three seconds before the offer
    after = apply_op(
        record, "answer", {"answered_at": _iso(T0 - 3 * SECOND)}, KARI, now=T0 + 10 * SECOND
    )
    # Then the answer is recorded at the offer, never before it
    assert after["answered_at"] == _iso(T0)


def test_an_answer_time_given_by_the_desk_wins_over_when_it_was_synced() -> None:
    # Given a call answered at T0+5s but synced to the server a minute later
    after = apply_op(
        _ringing(), "answer", {"answered_at": "2026-11-23T10:00:05+01:00"}, KARI, now=T0 + MINUTE
    )
    # Then the answer time is the one the desk saw, in UTC
    assert after["answered_at"] == _iso(T0 + 5 * SECOND)


def test_the_same_agent_answering_again_changes_nothing() -> None:
    # Given a call Kari answered at T0+8s
    record = _answered(KARI)
    # When her answer is sent again a minute later (a retry)
    again = apply_op(record, "answer", {}, KARI, now=T0 + MINUTE)
    # Then the record is as it was: still hers, answered at the first time
    assert again == record


def test_another_agent_cannot_take_a_call_someone_has_answered() -> None:
    # Given a call Kari answered
    record = _answered(KARI)
    # When Ola tries to answer it too
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "answer", {}, OLA, now=T0 + 20 * SECOND)
    # Then he is refused and told who has it
    assert _fields_of(refused) == ["owner"]
    assert "Kari Nordmann" in refused.value.errors[0].message


def test_a_refusal_is_also_a_validation_failure() -> None:
    # Given code that catches ValidationFailed for any rejected step
    # Then a refusal is caught by it too
    assert issubclass(ContactRefused, ValidationFailed)


def test_a_call_the_caller_abandoned_cannot_be_answered() -> None:
    # Given a call whose caller hung up before anyone answered
    record = {**_ringing(), "state": "abandoned", "ended_at": _iso(T0 + 12 * SECOND)}
    # When Kari tries to answer it
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "answer", {}, KARI, now=T0 + 15 * SECOND)
    # Then she is told the caller hung up
    assert _fields_of(refused) == ["state"]
    assert "hung up" in refused.value.errors[0].message


def test_a_call_answered_by_the_phone_system_without_an_owner_is_claimed_by_the_first_desk() -> (
    None
):
    # Given a call the phone system reports as answered, with no desk user as owner
    record = {
        **_ringing(),
        "state": "answered",
        "answered_at": _iso(T0 + 6 * SECOND),
        "answered_by": "ext-214",
    }
    # When Kari answers it on her desk
    claimed = apply_op(record, "answer", {}, KARI, now=T0 + 9 * SECOND)
    # Then she owns it, and the phone system's answer time is kept
    assert claimed["owner_id"] == "u-kari"
    assert claimed["owner_name"] == "Kari Nordmann"
    assert claimed["answered_at"] == _iso(T0 + 6 * SECOND)
    assert claimed["state"] == "answered"
    # And Ola, a moment later, cannot claim it as well
    with pytest.raises(ContactRefused) as refused:
        apply_op(claimed, "answer", {}, OLA, now=T0 + 10 * SECOND)
    assert _fields_of(refused) == ["owner"]


def test_a_step_never_changes_the_record_it_was_given() -> None:
    # Given an answered call with a note
    record = apply_op(_answered(), "note", {"id": "n1", "text": "Printer jam"}, KARI, now=T0)
    before = copy.deepcopy(record)
    # When several steps are applied to it
    apply_op(record, "note", {"id": "n2", "text": "Still jammed"}, KARI, now=T0 + MINUTE)
    apply_op(record, "end", {}, KARI, now=T0 + MINUTE)
    apply_op(record, "link", {"customer_id": "cust-1"}, KARI, now=T0 + MINUTE)
    # Then the record the caller holds is untouched (the desk keeps it for undo and display)
    assert record == before


# --- end ------------------------------------------------------------------------------------


def test_a_ringing_call_cannot_be_ended() -> None:
    # Given a call that is still ringing
    # When Kari tries to end it
    with pytest.raises(ContactRefused) as refused:
        apply_op(_ringing(), "end", {}, KARI, now=T0 + 5 * SECOND)
    # Then she is told to answer it first
    assert _fields_of(refused) == ["state"]


def test_ending_an_answered_call_records_when_it_ended() -> None:
    # Given a call Kari answered at T0+8s
    record = _answered(KARI)
    # When she ends it four minutes later
    ended = apply_op(record, "end", {}, KARI, now=T0 + 4 * MINUTE)
    # Then it is ended at that moment
    assert ended["state"] == "ended"
    assert ended["ended_at"] == _iso(T0 + 4 * MINUTE)


def test_an_end_time_before_the_answer_is_moved_to_the_answer() -> None:
    # Given a call answered at T0+8s
    record = _answered(KARI)
    # When the end arrives stamped before the answer (a desk clock behind the server's)
    ended = apply_op(record, "end", {"ended_at": _iso(T0 + 2 * SECOND)}, KARI, now=T0 + MINUTE)
    # Then the call never ends before it was answered
    assert ended["ended_at"] == _iso(T0 + 8 * SECOND)
    assert ended["ended_at"] >= ended["answered_at"]


def test_ending_twice_keeps_the_first_end_time() -> None:
    # Given a call Kari ended at T0+4min
    ended = apply_op(_answered(KARI), "end", {}, KARI, now=T0 + 4 * MINUTE)
    # When the end is sent again later
    again = apply_op(ended, "end", {}, KARI, now=T0 + 9 * MINUTE)
    # Then nothing moves
    assert again["ended_at"] == _iso(T0 + 4 * MINUTE)
    assert again == ended


def test_an_agent_cannot_end_a_call_another_agent_owns() -> None:
    # Given a call Kari answered
    record = _answered(KARI)
    # When Ola, not a supervisor, tries to end it
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "end", {}, OLA, now=T0 + MINUTE)
    # Then he is refused and told who has it
    assert _fields_of(refused) == ["owner"]
    assert "Kari Nordmann" in refused.value.errors[0].message


def test_a_supervisor_may_end_a_call_another_agent_owns() -> None:
    # Given a call Kari answered
    record = _answered(KARI)
    # When Per, a supervisor, ends it
    ended = apply_op(record, "end", {}, PER, now=T0 + MINUTE)
    # Then it is ended, and it stays Kari's
    assert ended["state"] == "ended"
    assert ended["ended_at"] == _iso(T0 + MINUTE)
    assert ended["owner_id"] == "u-kari"


# --- wrap-up --------------------------------------------------------------------------------

SOLVED = {"category": "printing", "outcome": "solved", "acw_s": 42.26}


def test_wrap_up_needs_a_known_category_and_outcome() -> None:
    # Given an answered call
    record = _answered(KARI)
    # When it is wrapped up with a category and an outcome the desk does not know
    with pytest.raises(ValidationFailed) as failed:
        apply_op(record, "wrap_up", {"category": "coffee", "outcome": "maybe"}, KARI, now=T0)
    # Then both fields are named, and it is bad input, not a refusal of the state
    assert sorted(_fields_of(failed)) == ["category", "outcome"]
    assert not isinstance(failed.value, ContactRefused)
    by_field = failed.value.by_field()
    assert all(c in by_field["category"] for c in CATEGORIES)
    assert all(o in by_field["outcome"] for o in OUTCOMES)


def test_wrap_up_without_category_or_outcome_names_both() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "wrap_up", {}, KARI, now=T0 + MINUTE)
    assert sorted(_fields_of(failed)) == ["category", "outcome"]


@pytest.mark.parametrize("outcome", ["escalated", "transferred"])
@pytest.mark.parametrize("handed_to", [None, "", "   "])
def test_a_hand_over_must_name_who_takes_it(outcome: str, handed_to: str | None) -> None:
    # Given an answered call handed over to nobody in particular
    fields = {"category": "network", "outcome": outcome, "handed_to": handed_to}
    # When it is wrapped up
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "wrap_up", fields, KARI, now=T0 + MINUTE)
    # Then the agent is asked who takes it over
    assert _fields_of(failed) == ["handed_to"]


@pytest.mark.parametrize("acw", [-1, -0.1, "30", None, True, [30]])
def test_after_call_work_must_be_a_number_of_seconds_not_below_zero(acw: Any) -> None:
    # Given a wrap-up with a negative or non-numeric after-call work time
    fields = {"category": "printing", "outcome": "solved", "acw_s": acw}
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "wrap_up", fields, KARI, now=T0 + MINUTE)
    # Then the acw_s field is named
    assert _fields_of(failed) == ["acw_s"]


@pytest.mark.parametrize(
    "acw",
    [
        pytest.param(
            float("nan"),
            # NaN is not below zero either; it would not be valid JSON on the server.
        ),
        pytest.param(
            float("inf"),
            # Nor is infinity a time anybody worked.
        ),
    ],
)
def test_after_call_work_that_is_not_a_finite_number_is_refused(acw: float) -> None:
    # Given a wrap-up whose after-call work is NaN or infinite (JSON from a client allows both)
    fields = {"category": "printing", "outcome": "solved", "acw_s": acw}
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "wrap_up", fields, KARI, now=T0 + MINUTE)
    # Then the acw_s field is named, like any other non-number
    assert _fields_of(failed) == ["acw_s"]


def test_several_wrap_up_problems_are_reported_together() -> None:
    # Given a wrap-up with a bad category, a hand-over to nobody and negative ACW
    fields = {"category": "coffee", "outcome": "escalated", "acw_s": -5}
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "wrap_up", fields, KARI, now=T0 + MINUTE)
    # Then every problem is listed, so the form can mark them all
    assert sorted(_fields_of(failed)) == ["acw_s", "category", "handed_to"]


def test_wrapping_up_a_solved_call_ends_it() -> None:
    # Given a call Kari answered and is still talking on
    record = _answered(KARI)
    # When she wraps it up as solved at T0+3min (the phone system has not said it ended yet)
    wrapped = apply_op(record, "wrap_up", SOLVED, KARI, now=T0 + 3 * MINUTE)
    # Then the call is ended at the wrap-up, and the wrap-up says what and who
    assert wrapped["state"] == "ended"
    assert wrapped["ended_at"] == _iso(T0 + 3 * MINUTE)
    assert wrapped["wrap_up"] == {
        "category": "printing",
        "outcome": "solved",
        "handed_to": "",
        "wrapped_at": _iso(T0 + 3 * MINUTE),
        "acw_s": 42.3,
        "by": "Kari Nordmann",
    }


def test_a_transferred_call_stays_answered_after_wrap_up() -> None:
    # Given a call Kari answered
    record = _answered(KARI)
    # When she wraps it up as transferred to the network team
    fields = {"category": "network", "outcome": "transferred", "handed_to": "  Network   team "}
    wrapped = apply_op(record, "wrap_up", fields, KARI, now=T0 + 2 * MINUTE)
    # Then the call goes on (now with the other party) and is not ended
    assert wrapped["state"] == "answered"
    assert wrapped["ended_at"] is None
    assert wrapped["wrap_up"]["handed_to"] == "Network team"
    assert wrapped["wrap_up"]["acw_s"] == 0.0


@pytest.mark.parametrize("outcome", ["follow-up", "escalated"])
def test_other_outcomes_end_the_call_at_wrap_up(outcome: str) -> None:
    fields = {"category": "hardware", "outcome": outcome, "handed_to": "Field service"}
    wrapped = apply_op(_answered(KARI), "wrap_up", fields, KARI, now=T0 + 2 * MINUTE)
    assert wrapped["state"] == "ended"


def test_wrapping_up_an_ended_call_keeps_its_end_time() -> None:
    # Given a call that ended at T0+2min
    ended = apply_op(_answered(KARI), "end", {}, KARI, now=T0 + 2 * MINUTE)
    # When Kari wraps it up a minute and a half later
    wrapped = apply_op(ended, "wrap_up", SOLVED, KARI, now=T0 + 3 * MINUTE + 30 * SECOND)
    # Then the end time is still the call's own
    assert wrapped["state"] == "ended"
    assert wrapped["ended_at"] == _iso(T0 + 2 * MINUTE)
    assert wrapped["wrap_up"]["wrapped_at"] == _iso(T0 + 3 * MINUTE + 30 * SECOND)


def test_a_wrap_up_stamped_before_the_answer_does_not_end_the_call_before_the_answer() -> None:
    # A desk clock behind the answer time must not give a negative talk time.
    # Given a call answered at T0+8s
    record = _answered(KARI)
    # When the wrap-up arrives stamped T0+2s (the desk's clock runs behind)
    fields = {**SOLVED, "wrapped_at": _iso(T0 + 2 * SECOND)}
    wrapped = apply_op(record, "wrap_up", fields, KARI, now=T0 + MINUTE)
    # Then the call still does not end before it was answered, as with "end"
    assert wrapped["state"] == "ended"
    assert parse_time(wrapped["ended_at"], "ended_at") >= parse_time(
        wrapped["answered_at"], "answered_at"
    )


@pytest.mark.parametrize("state", ["ringing", "abandoned"])
def test_a_call_that_was_never_answered_cannot_be_wrapped_up(state: str) -> None:
    # Given a call that is ringing, or that the caller abandoned
    record = {**_ringing(), "state": state}
    # When Kari tries to wrap it up
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "wrap_up", SOLVED, KARI, now=T0 + MINUTE)
    # Then she is told only an answered contact is wrapped up
    assert _fields_of(refused) == ["state"]


def test_an_agent_cannot_wrap_up_a_call_another_agent_owns() -> None:
    # Given a call Kari answered
    # When Ola tries to wrap it up
    with pytest.raises(ContactRefused) as refused:
        apply_op(_answered(KARI), "wrap_up", SOLVED, OLA, now=T0 + MINUTE)
    # Then he is refused, naming the owner
    assert _fields_of(refused) == ["owner"]
    assert "Kari Nordmann" in refused.value.errors[0].message


# --- notes ----------------------------------------------------------------------------------


def test_a_note_is_added_with_its_author_and_time() -> None:
    # Given an answered call
    record = _answered(KARI)
    # When Kari writes a note
    fields = {"id": "n1", "text": "  Toner replaced; test page OK.  "}
    after = apply_op(record, "note", fields, KARI, now=T0 + MINUTE)
    # Then the note is kept, trimmed, with who wrote it and when
    assert after["notes"] == [
        {
            "id": "n1",
            "text": "Toner replaced; test page OK.",
            "at": _iso(T0 + MINUTE),
            "by": "Kari Nordmann",
        }
    ]


def test_a_reply_to_the_customer_is_kept_apart_from_notes() -> None:
    # Given an e-mail contact in hand
    record = _answered(KARI)
    # When Kari records the reply she wrote to the customer
    fields = {"id": "r1", "text": "Dear Ms Berg, the printer is back.", "kind": "reply"}
    after = apply_op(record, "note", fields, KARI, now=T0 + MINUTE)
    # Then it is kept with its kind, so the history tells it from her own notes
    assert after["notes"][0]["kind"] == "reply"
    # And a kind the record does not know is refused, naming the field
    with pytest.raises(ValidationFailed) as failed:
        apply_op(record, "note", {"id": "r2", "text": "x", "kind": "memo"}, KARI, now=T0)
    assert failed.value.errors[0].field == "kind"
    assert "note, reply" in failed.value.errors[0].message


def test_an_email_cannot_be_put_on_hold() -> None:
    record = {**_answered(KARI), "channel": "email"}
    with pytest.raises(ContactRefused) as refused:
        apply_op(record, "hold", {"id": "h1", "reason": "check"}, KARI, now=T0 + MINUTE)
    assert refused.value.errors[0].field == "channel"


def test_the_same_note_sent_twice_is_kept_once() -> None:
    # Given a call with note n1
    fields = {"id": "n1", "text": "Customer will reboot and call back"}
    once = apply_op(_answered(KARI), "note", fields, KARI, now=T0 + MINUTE)
    # When the same note is sent again (the outbox retried it), later
    twice = apply_op(once, "note", fields, KARI, now=T0 + 5 * MINUTE)
    # Then there is still one note, unchanged
    assert twice["notes"] == once["notes"]
    assert len(twice["notes"]) == 1


def test_notes_are_never_rewritten_only_appended() -> None:
    # Given a call with note n1
    first = {"id": "n1", "text": "Printer offline"}
    record = apply_op(_answered(KARI), "note", first, KARI, now=T0 + MINUTE)
    # When a note with the same id but other text arrives
    rewritten = apply_op(record, "note", {"id": "n1", "text": "Edited"}, OLA, now=T0 + 2 * MINUTE)
    # Then the first note stands as written
    assert rewritten["notes"] == record["notes"]
    # And when a second note (another id) is written, by another agent
    second = apply_op(
        record, "note", {"id": "n2", "text": "Cable swapped"}, OLA, now=T0 + 3 * MINUTE
    )
    # Then it is appended after the first, which is unchanged
    assert [n["id"] for n in second["notes"]] == ["n1", "n2"]
    assert second["notes"][0] == record["notes"][0]
    assert second["notes"][1]["by"] == "Ola Hansen"


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_an_empty_note_is_refused(text: str | None) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "note", {"id": "n1", "text": text}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["text"]


def test_a_note_without_an_id_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "note", {"text": "Hello"}, KARI, now=T0 + MINUTE)
    assert _fields_of(failed) == ["id"]


# --- promises -------------------------------------------------------------------------------


def _promise(**fields: Any) -> dict[str, Any]:
    return {"id": "p1", "text": "A new disk is installed", **fields}


def test_a_promise_with_a_concrete_future_time_is_recorded() -> None:
    # Given a call linked to a customer
    record = apply_op(_answered(KARI), "link", {"customer_id": "cust-1"}, KARI, now=T0)
    # When Kari promises a new disk by tomorrow 10:00 Oslo time
    fields = _promise(text="A new   disk is installed", due_at="2026-11-24T10:00:00+01:00")
    after = apply_op(record, "promise", fields, KARI, now=T0 + MINUTE)
    # Then the promise is kept with its due time in UTC, who made it, and for whom
    assert after["promises"] == [
        {
            "id": "p1",
            "text": "A new disk is installed",
            "due_at": _iso(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)),
            "at": _iso(T0 + MINUTE),
            "by": "Kari Nordmann",
            "owner_id": "u-kari",
            "customer_id": "cust-1",
            "done_at": None,
        }
    ]


@pytest.mark.parametrize(
    "text",
    [
        "We fix it ASAP",
        "Vi ordner det snarest",
        "我们会尽快处理",
        "Så fort som mulig",
        "Call back later",
    ],
)
def test_a_promise_that_puts_off_the_time_is_refused(text: str) -> None:
    # Given a promise with a vague time in its text (English, Norwegian or Chinese)
    fields = _promise(text=text, due_at=_iso(T0 + 2 * HOUR))
    # When it is applied
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "promise", fields, KARI, now=T0)
    # Then the text is refused, and the agent is told to give a time instead
    assert _fields_of(failed) == ["text"]
    assert "is not a time" in failed.value.errors[0].message


@pytest.mark.parametrize("due_at", [None, ""])
def test_a_promise_without_a_due_time_is_refused(due_at: str | None) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "promise", _promise(due_at=due_at), KARI, now=T0)
    assert _fields_of(failed) == ["due_at"]


def test_a_vague_promise_without_a_due_time_reports_both() -> None:
    # Given "ASAP" and no due time
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "promise", {"id": "p1", "text": "ASAP"}, KARI, now=T0)
    # Then both the text and the due time are named
    assert sorted(_fields_of(failed)) == ["due_at", "text"]


@pytest.mark.parametrize("due_at", ["2026-11-24T10:00:00", "next Tuesday"])
def test_a_promise_with_an_unreadable_or_zoneless_due_time_is_refused_once(due_at: str) -> None:
    # Given a due time without a time zone, or words
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "promise", _promise(due_at=due_at), KARI, now=T0)
    # Then the due field is named once (not also as "missing")
    assert _fields_of(failed) == ["due_at"]


def test_a_promise_due_when_it_is_made_or_before_is_refused() -> None:
    for due in (T0, T0 - MINUTE):
        with pytest.raises(ValidationFailed) as failed:
            apply_op(_answered(KARI), "promise", _promise(due_at=_iso(due)), KARI, now=T0)
        assert _fields_of(failed) == ["due_at"]
        assert "future" in failed.value.errors[0].message


def test_a_promise_synced_late_is_judged_by_when_it_was_made() -> None:
    # Given a promise made at T0, due an hour later
    fields = _promise(at=_iso(T0), due_at=_iso(T0 + HOUR))
    # When the desk only syncs it three hours later (after it came due)
    after = apply_op(_answered(KARI), "promise", fields, KARI, now=T0 + 3 * HOUR)
    # Then it is accepted, made at T0
    assert [p["id"] for p in after["promises"]] == ["p1"]
    assert after["promises"][0]["at"] == _iso(T0)
    assert after["promises"][0]["due_at"] == _iso(T0 + HOUR)


def test_a_promise_made_after_its_due_time_is_refused_even_if_now_is_earlier() -> None:
    # Given a promise stamped as made at T0+2h but due at T0+1h
    fields = _promise(at=_iso(T0 + 2 * HOUR), due_at=_iso(T0 + HOUR))
    # When it is applied with a server clock at T0
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), "promise", fields, KARI, now=T0)
    # Then it is refused: the due time was already past when it was made
    assert _fields_of(failed) == ["due_at"]


def test_the_same_promise_sent_twice_is_kept_once() -> None:
    # Given a call with promise p1
    fields = _promise(due_at=_iso(T0 + HOUR))
    once = apply_op(_answered(KARI), "promise", fields, KARI, now=T0)
    # When it is sent again (even after it came due, even with other text)
    again = apply_op(once, "promise", {**fields, "text": "Changed"}, KARI, now=T0 + 2 * HOUR)
    # Then it is kept once, as first made
    assert again["promises"] == once["promises"]


def test_a_promise_without_an_id_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(
            _answered(KARI), "promise", {"text": "Call", "due_at": _iso(T0 + HOUR)}, KARI, now=T0
        )
    assert _fields_of(failed) == ["id"]


# --- link -----------------------------------------------------------------------------------


def test_linking_a_caller_to_a_customer_sets_who_it_is_and_clears_the_candidates() -> None:
    # Given a ringing call whose number matches two customers
    record = _ringing()
    assert record["candidates"]
    # When the agent picks the tier A customer
    fields = {"customer_id": "cust-2", "tier": "A", "caller_name": "Tromsø Kommune"}
    linked = apply_op(record, "link", fields, KARI, now=T0 + 3 * SECOND)
    # Then the call is that customer's, at their tier, and no longer ambiguous
    assert linked["customer_id"] == "cust-2"
    assert linked["tier"] == "A"
    assert linked["caller_name"] == "Tromsø Kommune"
    assert linked["candidates"] == []
    assert linked["state"] == "ringing"


def test_linking_without_a_name_keeps_the_callers_name_and_an_unknown_tier_is_b() -> None:
    record = {**_answered(KARI), "caller_name": "Nordlys AS", "tier": "A"}
    linked = apply_op(record, "link", {"customer_id": "cust-9", "tier": "Z"}, KARI, now=T0)
    assert linked["caller_name"] == "Nordlys AS"
    assert linked["tier"] == "B"


@pytest.mark.parametrize("customer_id", [None, ""])
def test_linking_needs_a_customer(customer_id: str | None) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_ringing(), "link", {"customer_id": customer_id}, KARI, now=T0)
    assert _fields_of(failed) == ["customer_id"]


# --- unknown steps --------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["delete", "create", "", "Answer"])
def test_an_unknown_step_is_refused_naming_the_op(op: str) -> None:
    # Given a step apply_op does not know (creating goes through new_contact_record)
    with pytest.raises(ValidationFailed) as failed:
        apply_op(_answered(KARI), op, {}, KARI, now=T0)
    # Then the op field is named, listing what is possible
    assert _fields_of(failed) == ["op"]
    assert "wrap_up" in failed.value.errors[0].message


# --- new_contact_record ---------------------------------------------------------------------


def test_a_contact_logged_by_hand_is_answered_and_owned_by_who_logged_it() -> None:
    # Given an e-mail Kari logs by hand, with its times in Oslo time
    fields = {
        "channel": "email",
        "caller_name": "  Ingrid   Berg ",
        "caller_address": "ingrid@example.no",
        "offered_at": "2026-11-23T09:50:00+01:00",
        "answered_at": "2026-11-23T09:55:00+01:00",
    }
    # When the record is made
    record = new_contact_record(fields, KARI, contact_id="c-9", now=T0)
    # Then it is answered, hers, with the times in UTC and nothing else yet
    assert record["id"] == "c-9"
    assert record["channel"] == "email"
    assert record["state"] == "answered"
    assert record["owner_id"] == "u-kari"
    assert record["owner_name"] == "Kari Nordmann"
    assert record["answered_by"] == "kari"
    assert record["caller_name"] == "Ingrid Berg"
    assert record["caller_number"] == "ingrid@example.no"
    assert record["offered_at"] == _iso(T0 - 10 * MINUTE)
    assert record["answered_at"] == _iso(T0 - 5 * MINUTE)
    assert record["ended_at"] is None
    assert record["tier"] == "B"
    assert record["direction"] == "in"
    assert record["notes"] == [] and record["promises"] == [] and record["wrap_up"] is None


def test_a_logged_contact_without_times_began_and_was_answered_now() -> None:
    record = new_contact_record(
        {"channel": "walk-in", "caller_name": "Ola"}, KARI, contact_id="c", now=T0
    )
    assert record["offered_at"] == record["answered_at"] == _iso(T0)


def test_a_logged_contact_can_then_be_wrapped_up_by_its_owner() -> None:
    # Given an instant message Kari logged
    record = new_contact_record(
        {"channel": "im", "customer_id": "cust-1"}, KARI, contact_id="c", now=T0
    )
    # When she wraps it up as solved
    wrapped = apply_op(record, "wrap_up", SOLVED, KARI, now=T0 + 4 * MINUTE)
    # Then it is ended
    assert wrapped["state"] == "ended"


@pytest.mark.parametrize("channel", ["fax", "", None, "Phone"])
def test_a_logged_contact_needs_a_known_channel(channel: str | None) -> None:
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record({"channel": channel, "caller_name": "Ola"}, KARI, contact_id="c", now=T0)
    assert _fields_of(failed) == ["channel"]
    assert all(c in failed.value.errors[0].message for c in CHANNELS)


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_every_channel_can_be_logged(channel: str) -> None:
    record = new_contact_record(
        {"channel": channel, "caller_name": "Ola"}, KARI, contact_id="c", now=T0
    )
    assert record["channel"] == channel


@pytest.mark.parametrize(
    "who",
    [
        {"customer_id": "cust-1"},
        {"caller_name": "Ingrid Berg"},
        {"caller_address": "+47 22 33 44 55"},
    ],
)
def test_a_customer_a_name_or_an_address_is_enough_to_log_a_contact(who: dict[str, str]) -> None:
    record = new_contact_record({"channel": "phone", **who}, KARI, contact_id="c", now=T0)
    assert record["state"] == "answered"


def test_a_logged_contact_needs_a_customer_a_name_or_an_address() -> None:
    # Given a contact with no customer, and only blanks for name and address
    fields = {"channel": "phone", "customer_id": "", "caller_name": "   ", "caller_address": " "}
    # When it is logged
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    # Then the agent is asked who it was
    assert _fields_of(failed) == ["caller_name"]


def test_a_contact_cannot_be_answered_before_it_began() -> None:
    fields = {
        "channel": "phone",
        "caller_name": "Ola",
        "offered_at": _iso(T0 - MINUTE),
        "answered_at": _iso(T0 - 2 * MINUTE),
    }
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    assert _fields_of(failed) == ["answered_at"]


def test_a_contact_may_begin_up_to_five_minutes_ahead_of_the_clock_but_not_more() -> None:
    # Given a desk clock a little behind the server's: five minutes ahead is tolerated
    ok = {"channel": "email", "caller_name": "Ola", "offered_at": _iso(T0 + 5 * MINUTE)}
    assert new_contact_record(ok, KARI, contact_id="c", now=T0)["offered_at"] == _iso(
        T0 + 5 * MINUTE
    )
    # When the contact claims to begin more than five minutes from now
    late = {**ok, "offered_at": _iso(T0 + 5 * MINUTE + SECOND)}
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(late, KARI, contact_id="c", now=T0)
    # Then it is refused as in the future
    assert _fields_of(failed) == ["offered_at"]
    assert "future" in failed.value.errors[0].message


def test_a_contact_cannot_be_answered_far_in_the_future() -> None:
    # An answer "tomorrow" would give a day-long speed of answer.
    # Given a contact that began now but claims to be answered tomorrow
    fields = {
        "channel": "email",
        "caller_name": "Ola",
        "offered_at": _iso(T0),
        "answered_at": _iso(T0 + dt.timedelta(days=1)),
    }
    # When it is logged
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    # Then the answer time is refused as in the future
    assert _fields_of(failed) == ["answered_at"]


@pytest.mark.parametrize("field", ["offered_at", "answered_at"])
def test_a_logged_time_without_a_zone_is_refused(field: str) -> None:
    fields = {"channel": "email", "caller_name": "Ola", field: "2026-11-23T08:00:00"}
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    assert _fields_of(failed) == [field]


def test_every_problem_of_a_logged_contact_is_reported_at_once() -> None:
    # Given a contact with a bad channel, nobody named, a bad direction and tier,
    # and a start an hour in the future
    fields = {
        "channel": "fax",
        "direction": "sideways",
        "tier": "C",
        "offered_at": _iso(T0 + HOUR),
    }
    # When it is logged
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    # Then each problem is reported, so the form can mark every field
    assert sorted(_fields_of(failed)) == [
        "caller_name",
        "channel",
        "direction",
        "offered_at",
        "tier",
    ]


def test_overlong_names_and_addresses_are_refused() -> None:
    fields = {"channel": "email", "caller_name": "x" * 201, "caller_address": "y" * 201}
    with pytest.raises(ValidationFailed) as failed:
        new_contact_record(fields, KARI, contact_id="c", now=T0)
    assert sorted(_fields_of(failed)) == ["caller_address", "caller_name"]


# --- open_promises --------------------------------------------------------------------------


def _with_promises(contact_id: str, *promises: tuple[str, dt.datetime]) -> dict[str, Any]:
    record = {**_answered(KARI), "id": contact_id}
    for promise_id, due in promises:
        fields = {"id": promise_id, "text": f"Promise {promise_id}", "due_at": _iso(due)}
        record = apply_op(record, "promise", fields, KARI, now=T0)
    return record


def test_open_promises_lists_the_unkept_soonest_first_with_their_contact() -> None:
    # Given promises on two contacts, one already kept
    first = _with_promises("c-1", ("p-third", T0 + 3 * HOUR), ("p-kept", T0 + HOUR))
    first["promises"][1] = {**first["promises"][1], "done_at": _iso(T0 + 30 * MINUTE)}
    second = _with_promises("c-2", ("p-second", T0 + 2 * HOUR), ("p-first", T0 + 90 * MINUTE))
    # When the open promises are listed
    found = open_promises([first, second])
    # Then only the unkept ones appear, soonest due first, each naming its contact
    assert [(p["id"], p["contact_id"]) for p in found] == [
        ("p-first", "c-2"),
        ("p-second", "c-2"),
        ("p-third", "c-1"),
    ]
    assert found[0]["due_at"] == _iso(T0 + 90 * MINUTE)
    assert found[0]["text"] == "Promise p-first"


def test_open_promises_of_contacts_without_promises_is_empty() -> None:
    assert open_promises([]) == []
    assert open_promises([{"id": "c-1"}, {"id": "c-2", "promises": None}]) == []


def test_open_promises_does_not_change_the_records() -> None:
    record = _with_promises("c-1", ("p1", T0 + HOUR))
    before = copy.deepcopy(record)
    open_promises([record])
    assert record == before
    assert "contact_id" not in record["promises"][0]


# --- history_matches ------------------------------------------------------------------------


def _history_record() -> dict[str, Any]:
    """A finished call: Kari answered, Ola and Per wrote notes, a promise was made."""
    record = apply_op(_ringing(), "answer", {}, KARI, now=T0 + 8 * SECOND)
    record["caller_name"] = "Tromsø Kommune"
    record = apply_op(
        record, "note", {"id": "n1", "text": "Strømbrudd på kontoret"}, OLA, now=T0 + MINUTE
    )
    record = apply_op(
        record,
        "promise",
        {"id": "p1", "text": "打印机 will be replaced", "due_at": _iso(T0 + HOUR)},
        KARI,
        now=T0 + MINUTE,
    )
    fields = {"category": "printing", "outcome": "escalated", "handed_to": "Field service"}
    return apply_op(record, "wrap_up", fields, KARI, now=T0 + 2 * MINUTE)


def test_with_no_criteria_every_contact_matches() -> None:
    assert history_matches(_history_record())


def test_history_by_category() -> None:
    record = _history_record()
    assert history_matches(record, category="printing")
    assert not history_matches(record, category="network")
    assert not history_matches(_ringing(), category="printing")  # no wrap-up yet


@pytest.mark.parametrize(
    ("where", "agent"),
    [
        ({"owner_name": "Kari Nordmann"}, "NORDMANN"),
        ({"answered_by": "kari"}, "Kari"),
        ({"wrap_up": {"category": "other", "by": "Ola Hansen"}}, "ola"),
        ({"notes": [{"id": "n", "text": "x", "by": "Per Olsen"}]}, "per o"),
    ],
)
def test_history_by_agent_looks_at_owner_answerer_wrap_up_and_notes(
    where: dict[str, Any], agent: str
) -> None:
    # Given a contact with the agent's name in only one place
    record = {**_ringing(), **where}
    # Then searching for the agent, in any case, finds it
    assert history_matches(record, agent=agent)
    # And another agent's name does not
    assert not history_matches(record, agent="Ingrid")


def test_history_by_agent_finds_a_note_writer_who_did_not_own_the_call() -> None:
    record = _history_record()
    assert history_matches(record, agent="ola hansen")
    assert not history_matches(record, agent="per")


def test_history_by_day_uses_the_given_time_zone() -> None:
    # Given a contact offered at 23:30 UTC on 23 November
    record = _ringing(offered_at=dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))
    shanghai = ZoneInfo("Asia/Shanghai")
    # Then in UTC it is the 23rd
    assert history_matches(record, day=dt.date(2026, 11, 23))
    assert not history_matches(record, day=dt.date(2026, 11, 24))
    # And in Shanghai (UTC+8) it is already the 24th
    assert history_matches(record, day=dt.date(2026, 11, 24), tz=shanghai)
    assert not history_matches(record, day=dt.date(2026, 11, 23), tz=shanghai)


@pytest.mark.parametrize(
    "text",
    [
        "tromsø",
        "STRØMBRUDD kontoret",
        "打印机",
        "field SERVICE",
        "printing",
        "22 33",
        "replaced tromsø 打印机",
    ],
)
def test_history_by_text_finds_every_word_in_any_case_and_script(text: str) -> None:
    assert history_matches(_history_record(), text=text)


@pytest.mark.parametrize("text", ["tromsø oslo", "扫描仪", "network", "Kari"])
def test_history_by_text_needs_every_word(text: str) -> None:
    # Given words of which at least one is nowhere in the contact's text
    # (the agent's name is searched by agent, not by text)
    assert not history_matches(_history_record(), text=text)


def test_history_criteria_must_all_hold() -> None:
    record = _history_record()
    day = dt.date(2026, 11, 23)
    assert history_matches(record, text="strømbrudd", agent="kari", category="printing", day=day)
    assert not history_matches(
        record, text="strømbrudd", agent="kari", category="printing", day=day + dt.timedelta(1)
    )
    assert not history_matches(record, text="strømbrudd", agent="ingrid", category="printing")
