"""On-site visits (DOMAIN §10, issue 7): scheduling, the preparation checklist, the steps on
site in the field engineers' order with their consents, running late, the signed service
report and its closing rule, the day's and upcoming visits, and edits made offline.

The same rules run on the desk and on the server, so every rule takes the time as an argument;
these tests use fixed times and never the wall clock.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agentdesk.domain.contacts import Actor
from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.visits import (
    MAX_ITEMS,
    MAX_SIGNATURE_BYTES,
    OPTIONAL_STEPS,
    PNG_MAGIC,
    STEPS,
    Engineer,
    apply_visit_op,
    history_entry,
    introduction,
    missing_before,
    new_visit,
    prepared,
    upcoming,
    visits_for_day,
)

#: Monday 23 November 2026, 09:00 UTC (10:00 in Oslo, 17:00 in Shanghai).
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
#: The visit's window: 10:00 to 12:00 UTC on the same day.
START = T0 + HOUR
END = T0 + 3 * HOUR

OLA = Actor(user_id="u-ola", username="ola", full_name="Ola Hansen", department="Field")
OLA_ENGINEER = Engineer(username="ola", full_name="Ola Hansen", user_id="u-ola")
KARI = Actor(user_id="u-kari", username="kari", full_name="Kari Nordmann", department="Support")
PER = Actor(user_id="u-per", username="per", full_name="Per Olsen", supervisor=True)

REQUIRED_STEPS = [s for s in STEPS if s not in OPTIONAL_STEPS]
CONSENT = {"consent_by": "Li Wei", "how": "in person"}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _png(width: int = 3, height: int = 2) -> bytes:
    """A tiny but valid PNG (8-bit greyscale, all white), as a signature pad would give."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        PNG_MAGIC
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SIGNATURE = base64.b64encode(_png()).decode("ascii")
GIF = base64.b64encode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").decode("ascii")


def _fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in failed.value.errors]


def _schedule(**changes: Any) -> dict[str, Any]:
    """The schedule form as an agent fills it in from a contact."""
    fields: dict[str, Any] = {
        "customer_id": "cust-1",
        "contact_id": "c-1",
        "device": "Dell OptiPlex 7090 (reception)",
        "fault": "Does not start: beeps three times.",
        "engineer": "ola",
        "window_start": "2026-11-23T11:00:00+01:00",
        "window_end": "2026-11-23T13:00:00+01:00",
    }
    fields.update(changes)
    return fields


def _visit(engineer: Engineer = OLA_ENGINEER, **changes: Any) -> dict[str, Any]:
    return new_visit(
        _schedule(**changes),
        KARI,
        engineer,
        visit_id="v-1",
        now=T0,
        customer_name="Acme AS",
    )


def _op(
    record: Mapping[str, Any],
    op: str,
    actor: Actor = OLA,
    now: dt.datetime = T0 + 2 * HOUR,
    **fields: Any,
) -> dict[str, Any]:
    return apply_visit_op(record, op, fields, actor, now=now)


def _step_fields(step: str) -> dict[str, Any]:
    """What the desk sends with each step: consents say who gave them, and how."""
    if step == "consent_open":
        return dict(CONSENT)
    if step == "disk_consent":
        return {**CONSENT, "signature": SIGNATURE, "signer_name": "Li Wei"}
    return {}


def _step(
    record: Mapping[str, Any],
    step: str,
    actor: Actor = OLA,
    at: dt.datetime = T0 + 2 * HOUR,
    **fields: Any,
) -> dict[str, Any]:
    return _op(record, "step", actor, at, step=step, **{**_step_fields(step), **fields})


def _through(
    record: Mapping[str, Any], steps: Sequence[str], at: dt.datetime = T0 + 2 * HOUR
) -> dict[str, Any]:
    out = dict(record)
    for index, step in enumerate(steps):
        out = _step(out, step, at=at + index * MINUTE)
    return out


def _on_site() -> dict[str, Any]:
    return _step(_visit(), "arrival")


def _report(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "work_done": "Replaced the power supply; the machine starts.",
        "parts_used": [{"item": "PSU 300 W", "qty": 1}],
        "minutes_on_site": 45,
        "signature": SIGNATURE,
        "signer_name": "Li Wei",
        "rating": 5,
        "comment": "服务很好,谢谢!",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not ...}


# --- scheduling ---------------------------------------------------------------------------------


def test_a_complete_schedule_gives_the_visit_in_utc() -> None:
    # Given a schedule with the window given in Oslo time (UTC+1)
    # When the agent schedules it
    visit = _visit()

    # Then the record is scheduled, for the engineer, with the window in UTC
    assert visit["id"] == "v-1"
    assert visit["state"] == "scheduled"
    assert visit["customer_id"] == "cust-1"
    assert visit["customer_name"] == "Acme AS"
    assert visit["contact_id"] == "c-1"
    assert visit["device"] == "Dell OptiPlex 7090 (reception)"
    assert visit["engineer"] == "ola"
    assert visit["engineer_id"] == "u-ola"
    assert visit["engineer_name"] == "Ola Hansen"
    assert visit["window_start"] == "2026-11-23T10:00:00+00:00"
    assert visit["window_end"] == "2026-11-23T12:00:00+00:00"
    assert visit["scheduled_by"] == "Kari Nordmann"
    assert visit["scheduled_at"] == _iso(T0)
    assert visit["eta"] is None
    assert visit["late"] == []
    assert visit["steps"] == {}
    assert visit["report"] is None
    assert visit["checklist"] == {"parts": [], "tools": [], "form_ready": False}
    assert not prepared(visit)


def test_a_schedule_accepts_datetimes_and_leaves_optional_fields_empty() -> None:
    # Given a schedule without contact or device, with times as aware datetimes
    fields = _schedule(window_start=START, window_end=END)
    del fields["contact_id"], fields["device"]

    # When it is scheduled for an engineer the directory knows only by user name
    visit = new_visit(fields, KARI, Engineer(username="ola"), visit_id="v-2", now=T0)

    # Then the optional fields are empty and the engineer's name falls back to the user name
    assert visit["contact_id"] is None
    assert visit["device"] == ""
    assert visit["engineer_id"] is None
    assert visit["engineer_name"] == "ola"
    assert visit["window_start"] == _iso(START)


def test_every_missing_field_is_named_at_once() -> None:
    # Given an empty form and no engineer chosen
    # When it is scheduled
    with pytest.raises(ValidationFailed) as failed:
        new_visit({}, KARI, Engineer(), visit_id="v-1", now=T0)

    # Then every required field is named in the one refusal
    assert sorted(_fields_of(failed)) == [
        "customer_id",
        "engineer",
        "fault",
        "window_end",
        "window_start",
    ]
    assert "empty" in failed.value.by_field()["engineer"]


def test_every_invalid_field_is_named_at_once() -> None:
    # Given blank text, an engineer the directory does not know and naive times
    fields = _schedule(
        customer_id="  ",
        fault="\n\t ",
        engineer="nobody",
        window_start="2026-11-23T10:00:00",
        window_end="tomorrow",
    )

    # When it is scheduled (the directory found nobody: an empty Engineer)
    with pytest.raises(ValidationFailed) as failed:
        new_visit(fields, KARI, Engineer(), visit_id="v-1", now=T0)

    # Then each is named, with what is expected
    by_field = failed.value.by_field()
    assert set(by_field) == {"customer_id", "fault", "engineer", "window_start", "window_end"}
    assert "'nobody'" in by_field["engineer"]
    assert "time zone" in by_field["window_start"]
    assert "ISO 8601" in by_field["window_end"]


@pytest.mark.parametrize(
    "end",
    [START, START - MINUTE],
    ids=["same as start", "before start"],
)
def test_the_window_must_end_after_it_starts(end: dt.datetime) -> None:
    # Given a window that ends when (or before) it starts
    # When it is scheduled
    with pytest.raises(ValidationFailed) as failed:
        _visit(window_start=_iso(START), window_end=_iso(end))

    # Then the end is named
    assert failed.value.by_field() == {"window_end": "must be later than the start"}


def test_a_window_long_past_is_refused_but_hours_ago_is_not() -> None:
    # Given a window that ended more than a day ago
    with pytest.raises(ValidationFailed) as failed:
        _visit(window_start=_iso(T0 - 3 * DAY), window_end=_iso(T0 - DAY))

    # Then the end is named as passed
    assert failed.value.by_field() == {"window_end": "has passed"}

    # And a window that ended hours ago (logged afterwards) is still accepted
    visit = _visit(window_start=_iso(T0 - 5 * HOUR), window_end=_iso(T0 - 4 * HOUR))
    assert visit["state"] == "scheduled"


def test_text_of_the_wrong_type_is_named() -> None:
    # Given a customer id that is a number and a fault with control characters
    # When it is scheduled
    with pytest.raises(ValidationFailed) as failed:
        _visit(customer_id=42, fault="beeps\x07")

    # Then both are named, once each
    assert _fields_of(failed) == ["customer_id", "fault"]


# --- step order and consents ----------------------------------------------------------------------


def test_the_required_steps_in_order_put_the_engineer_on_site() -> None:
    # Given a scheduled visit
    # When the engineer records every required step in order
    visit = _through(_visit(), REQUIRED_STEPS)

    # Then each is recorded with its time and author; consents say who and how
    assert visit["state"] == "on_site"
    assert list(visit["steps"]) == REQUIRED_STEPS
    assert visit["steps"]["arrival"] == {
        "at": _iso(T0 + 2 * HOUR),
        "by": "Ola Hansen",
        "on_time": True,
    }
    assert visit["steps"]["consent_open"] == {
        "at": _iso(T0 + 2 * HOUR + 4 * MINUTE),
        "by": "Ola Hansen",
        "consent_by": "Li Wei",
        "how": "in person",
    }
    assert missing_before(visit, "disk_operation") == ["disk_consent"]


@pytest.mark.parametrize("index", range(1, len(REQUIRED_STEPS)), ids=REQUIRED_STEPS[1:])
def test_each_step_waits_for_the_one_before(index: int) -> None:
    # Given every required step done but the one just before
    step, before = REQUIRED_STEPS[index], REQUIRED_STEPS[index - 1]
    visit = _through(_visit(), REQUIRED_STEPS[: index - 1])

    # When the engineer records the step
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, step)

    # Then it is refused, naming the step that comes first
    assert failed.value.by_field() == {"step": f"first: {STEPS[before].lower()}"}
    assert step not in visit["steps"]


def test_a_refused_step_lists_everything_that_comes_first_in_order() -> None:
    # Given a visit where nobody has arrived
    # When the engineer advises backups straight away
    with pytest.raises(ValidationFailed) as failed:
        _step(_visit(), "backup_advice")

    # Then every required step before it is listed, in order, without the disk steps
    expected = ", ".join(STEPS[s].lower() for s in REQUIRED_STEPS[:-1])
    assert failed.value.by_field() == {"step": f"first: {expected}"}
    assert "disk" not in expected


def test_the_disk_steps_are_optional() -> None:
    # Given a visit with the solution agreed
    visit = _through(_visit(), REQUIRED_STEPS[:-1])

    # When the engineer advises backups without touching a disk
    visit = _step(visit, "backup_advice")

    # Then that is allowed
    assert "backup_advice" in visit["steps"]
    assert "disk_consent" not in visit["steps"]


def test_no_disk_operation_without_disk_consent() -> None:
    # Given every required step done, backups advised included
    visit = _through(_visit(), REQUIRED_STEPS)

    # When the engineer records a disk operation without the customer's consent
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "disk_operation")

    # Then it is refused until consent and signature are recorded
    assert failed.value.by_field() == {
        "step": "first: consent and signature before any disk operation"
    }

    # And after consent with a signature, the disk operation is recorded
    visit = _step(visit, "disk_consent")
    visit = _step(visit, "disk_operation")
    assert {"disk_consent", "disk_operation"} <= set(visit["steps"])


def test_the_disk_consent_waits_for_the_agreed_solution() -> None:
    # Given the machine opened but no solution agreed
    visit = _through(_visit(), REQUIRED_STEPS[:5])

    # When the engineer records the disk consent
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "disk_consent")

    # Then the solution comes first
    assert failed.value.by_field() == {"step": "first: agreed the solution"}


def test_the_disk_consent_keeps_who_signed_and_the_signature() -> None:
    # Given a visit with the solution agreed
    visit = _through(_visit(), REQUIRED_STEPS[:6])

    # When the absent user consents by phone, and the signature comes as a data URL
    visit = _step(
        visit,
        "disk_consent",
        consent_by="Zhang San",
        how="by phone",
        signature=f"data:image/png;base64,{SIGNATURE}",
        signer_name=None,
    )

    # Then the consent is recorded; the signer defaults to whoever consented
    entry = visit["steps"]["disk_consent"]
    assert entry["consent_by"] == "Zhang San"
    assert entry["how"] == "by phone"
    assert entry["signature"] == SIGNATURE
    assert entry["signer_name"] == "Zhang San"
    assert base64.b64decode(entry["signature"]) == _png()


@pytest.mark.parametrize(
    "signature",
    ["", "   ", None, 42, GIF, "not base64!", "data:image/png;base64,"],
    ids=["empty", "blank", "missing", "number", "gif", "not base64", "empty data url"],
)
def test_the_disk_consent_needs_a_png_signature(signature: object) -> None:
    # Given a visit with the solution agreed
    visit = _through(_visit(), REQUIRED_STEPS[:6])

    # When the disk consent comes with no usable signature
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "disk_consent", signature=signature)

    # Then the signature is named and nothing is recorded
    assert _fields_of(failed) == ["signature"]
    assert "disk_consent" not in visit["steps"]


def test_a_signature_too_large_is_refused() -> None:
    # Given a "PNG" larger than 256 KB
    huge = base64.b64encode(PNG_MAGIC + b"\x00" * MAX_SIGNATURE_BYTES).decode("ascii")
    visit = _through(_visit(), REQUIRED_STEPS[:6])

    # When it is sent with the disk consent
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "disk_consent", signature=huge)

    # Then it is refused as too large
    assert failed.value.by_field() == {"signature": "is too large: at most 256 KB"}


def test_the_disk_consent_names_every_missing_part_at_once() -> None:
    # Given a visit with the solution agreed
    visit = _through(_visit(), REQUIRED_STEPS[:6])

    # When the disk consent has no one consenting, a wrong way and no signature
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "disk_consent", consent_by="", how="by email", signature="")

    # Then all three are named
    assert sorted(_fields_of(failed)) == ["consent_by", "how", "signature"]
    assert failed.value.by_field()["how"] == "choose one of: in person, by phone"


@pytest.mark.parametrize("how", ["by email", "In Person", 1])
def test_consent_is_given_in_person_or_by_phone(how: object) -> None:
    # Given a visit where the cause is explained
    visit = _through(_visit(), REQUIRED_STEPS[:4])

    # When the consent to open the machine is given some other way
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "consent_open", how=how)

    # Then "how" is named
    assert _fields_of(failed) == ["how"]


def test_consent_to_open_needs_who_gave_it_and_defaults_to_in_person() -> None:
    # Given a visit where the cause is explained
    visit = _through(_visit(), REQUIRED_STEPS[:4])

    # When consent is recorded without saying who gave it
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "consent_open", consent_by="  ")

    # Then who gave it is named
    assert failed.value.by_field() == {"consent_by": "is empty: who gave consent"}

    # And when it says who but not how, it is taken as given in person
    visit = _op(visit, "step", step="consent_open", consent_by="Li Wei")
    assert visit["steps"]["consent_open"]["how"] == "in person"


@pytest.mark.parametrize(
    ("arrived", "on_time"),
    [
        (START - HOUR, True),
        (START, True),
        (START + HOUR, True),
        (END, True),
        (END + MINUTE, False),
    ],
    ids=["early", "at the start", "within", "at the end", "after the window"],
)
def test_arrival_is_on_time_within_the_window(arrived: dt.datetime, on_time: bool) -> None:
    # Given a visit from 10:00 to 12:00
    # When the engineer arrives
    visit = _step(_visit(), "arrival", at=arrived)

    # Then they are on site, on time or not
    assert visit["state"] == "on_site"
    assert visit["steps"]["arrival"]["on_time"] is on_time
    assert visit["steps"]["arrival"]["at"] == _iso(arrived)


@pytest.mark.parametrize(
    ("arrived", "on_time"),
    [(END + HOUR, True), (END + 90 * MINUTE, True), (END + 91 * MINUTE, False)],
    ids=["before the eta", "at the eta", "after the eta"],
)
def test_arrival_after_calling_ahead_is_on_time_until_the_new_eta(
    arrived: dt.datetime, on_time: bool
) -> None:
    # Given the engineer called ahead at 11:30 with a new time of 13:30
    visit = _op(
        _visit(),
        "running_late",
        now=END - 30 * MINUTE,
        eta=_iso(END + 90 * MINUTE),
        reason="Traffic on E18",
    )

    # When they arrive
    visit = _step(visit, "arrival", at=arrived)

    # Then they are on time only until the new time
    assert visit["steps"]["arrival"]["on_time"] is on_time


def test_the_time_of_a_step_is_the_one_it_carries() -> None:
    # Given a step recorded offline at 11:50 and sent at 14:00
    visit = _op(_visit(), "step", now=T0 + 5 * HOUR, step="arrival", at=_iso(END - 10 * MINUTE))

    # Then its own time counts, not the time it reached the server
    assert visit["steps"]["arrival"] == {
        "at": _iso(END - 10 * MINUTE),
        "by": "Ola Hansen",
        "on_time": True,
    }


def test_a_step_with_a_bad_time_is_refused() -> None:
    # Given a step whose time has no offset
    # When it is recorded
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "step", step="arrival", at="2026-11-23T10:00:00")

    # Then the time is named
    assert _fields_of(failed) == ["at"]


def test_the_same_step_twice_changes_nothing() -> None:
    # Given an engineer on site since 11:00
    visit = _on_site()

    # When the arrival is sent again later (say, a retry)
    again = _step(visit, "arrival", at=T0 + 4 * HOUR)

    # Then the first one stands
    assert again == visit
    assert again["steps"]["arrival"]["at"] == _iso(T0 + 2 * HOUR)


def test_an_unknown_step_or_op_is_refused() -> None:
    # Given a visit
    visit = _visit()

    # When a step or an op nobody knows is sent
    with pytest.raises(ValidationFailed) as step:
        _op(visit, "step", step="coffee")
    with pytest.raises(ValidationFailed) as op:
        _op(visit, "reschedule")

    # Then each is named with the choices
    assert step.value.by_field()["step"].startswith("choose one of: arrival, introduction")
    assert op.value.by_field() == {
        "op": "choose one of: checklist, running_late, step, report, cancel"
    }


@pytest.mark.parametrize(
    "op",
    ["step", "checklist", "running_late", "report"],
)
def test_only_the_engineer_or_a_supervisor_records_the_visit(op: str) -> None:
    # Given a visit for Ola, on site
    visit = _on_site() if op == "report" else _visit()
    by_op: dict[str, dict[str, Any]] = {
        "step": {"step": "arrival"},
        "checklist": {"form_ready": True},
        "running_late": {"eta": _iso(END + HOUR)},
        "report": _report(),
    }
    fields = by_op[op]

    # When an agent at the desk records it
    with pytest.raises(ValidationFailed) as failed:
        apply_visit_op(visit, op, fields, KARI, now=T0 + 90 * MINUTE)

    # Then it is refused, naming the engineer
    assert failed.value.by_field() == {"engineer": "this visit is Ola Hansen's"}

    # And a supervisor may record it in their name
    done = apply_visit_op(visit, op, fields, PER, now=T0 + 90 * MINUTE)
    assert done != visit


def test_the_engineer_is_known_by_user_id_when_the_visit_has_one() -> None:
    # Given a visit for user u-ola, and another account with the same user name
    impostor = Actor(user_id="u-other", username="ola", full_name="Ola Hansen")

    # When that account records a step
    with pytest.raises(ValidationFailed) as failed:
        _step(_visit(), "arrival", actor=impostor)

    # Then it is refused
    assert _fields_of(failed) == ["engineer"]

    # And a visit without a user id goes by user name
    visit = _visit(engineer=Engineer(username="ola"))
    assert _step(visit, "arrival", actor=impostor)["state"] == "on_site"


# --- running late -------------------------------------------------------------------------------


def test_running_late_records_the_new_time_and_why() -> None:
    # Given a visit from 10:00 to 12:00
    # When at 11:40 the engineer calls ahead with a new time of 12:30 (Oslo 13:30)
    visit = _op(
        _visit(),
        "running_late",
        now=END - 20 * MINUTE,
        eta="2026-11-23T13:30:00+01:00",
        reason="  Previous  visit ran over  ",
    )

    # Then the new time is kept in UTC with why, when and by whom
    assert visit["eta"] == _iso(END + 30 * MINUTE)
    assert visit["late"] == [
        {
            "at": _iso(END - 20 * MINUTE),
            "eta": _iso(END + 30 * MINUTE),
            "reason": "Previous visit ran over",
            "by": "Ola Hansen",
        }
    ]
    assert visit["state"] == "scheduled"


def test_calling_ahead_again_moves_the_eta() -> None:
    # Given the engineer called ahead once
    first = _op(_visit(), "running_late", now=END, eta=_iso(END + HOUR), reason="Traffic")

    # When they call again with a later time
    second = _op(first, "running_late", now=END + 30 * MINUTE, eta=_iso(END + 2 * HOUR))

    # Then both calls are kept and the latest time counts
    assert [late["eta"] for late in second["late"]] == [_iso(END + HOUR), _iso(END + 2 * HOUR)]
    assert second["eta"] == _iso(END + 2 * HOUR)


@pytest.mark.parametrize(
    "eta",
    [END, END - MINUTE],
    ids=["now", "before now"],
)
def test_the_new_time_must_be_later_than_now(eta: dt.datetime) -> None:
    # Given a visit
    # When the engineer calls ahead at 12:00 with a new time that is not later
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "running_late", now=END, eta=_iso(eta))

    # Then the new time is named
    assert failed.value.by_field() == {"eta": "must be later than now"}


def test_running_late_needs_a_new_time() -> None:
    # Given a visit
    # When the engineer calls ahead without a time and with a reason that is not text
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "running_late", reason=3)

    # Then both are named
    assert sorted(_fields_of(failed)) == ["eta", "reason"]


def test_running_late_is_refused_after_arrival() -> None:
    # Given an engineer on site
    # When they report running late
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "running_late", eta=_iso(END + HOUR))

    # Then the state is named
    assert failed.value.by_field() == {"state": "the engineer has arrived already"}


def test_the_same_call_ahead_twice_is_kept_once() -> None:
    # Given the engineer called ahead at 11:40
    fields = {"eta": _iso(END + HOUR), "reason": "Traffic", "at": _iso(END - 20 * MINUTE)}
    once = apply_visit_op(_visit(), "running_late", fields, OLA, now=END - 20 * MINUTE)

    # When the same call is sent again later (a retry from the outbox)
    twice = apply_visit_op(once, "running_late", fields, OLA, now=END + 10 * MINUTE)

    # Then it is kept once
    assert twice == once
    assert len(twice["late"]) == 1


def test_a_call_ahead_sent_again_after_the_arrival_changes_nothing() -> None:
    # Given the engineer called ahead and then arrived
    fields = {"eta": _iso(END + HOUR), "reason": "Traffic", "at": _iso(END - 20 * MINUTE)}
    late = apply_visit_op(_visit(), "running_late", fields, OLA, now=END - 20 * MINUTE)
    arrived = _step(late, "arrival", at=END + 30 * MINUTE)

    # When the call ahead is sent again (the outbox did not hear back)
    again = apply_visit_op(arrived, "running_late", fields, OLA, now=END + 2 * HOUR)

    # Then it is taken as done already, not refused
    assert again == arrived

    # But a new call ahead after the arrival is still refused
    with pytest.raises(ValidationFailed) as failed:
        apply_visit_op(arrived, "running_late", {**fields, "reason": "Lost"}, OLA, now=END)
    assert _fields_of(failed) == ["state"]


# --- checklist ----------------------------------------------------------------------------------


def test_the_checklist_keeps_parts_with_quantities_tools_and_the_form() -> None:
    # Given a scheduled visit
    # When the engineer writes the checklist
    visit = _op(
        _visit(),
        "checklist",
        now=T0,
        parts=[
            {"item": "  PSU  300 W ", "qty": 2, "packed": True},
            {"item": "SATA cable"},
        ],
        tools=[{"item": "Screwdriver set", "packed": True, "qty": 3}],
        form_ready=True,
    )

    # Then parts keep their quantity (1 by default), tools too
    assert visit["checklist"] == {
        "parts": [
            {"item": "PSU 300 W", "packed": True, "qty": 2},
            {"item": "SATA cable", "packed": False, "qty": 1},
        ],
        "tools": [{"item": "Screwdriver set", "packed": True, "qty": 3}],
        "form_ready": True,
    }
    assert visit["state"] == "scheduled"


def test_the_checklist_is_replaced_as_a_whole() -> None:
    # Given a checklist with a part
    visit = _op(_visit(), "checklist", parts=[{"item": "PSU"}])

    # When the engineer sends the checklist again without parts
    visit = _op(visit, "checklist", tools=[{"item": "Discs"}])

    # Then it holds what was sent last
    assert visit["checklist"] == {
        "parts": [],
        "tools": [{"item": "Discs", "packed": False, "qty": 1}],
        "form_ready": False,
    }


@pytest.mark.parametrize("qty", [1, 999])
def test_quantities_from_1_to_999_are_accepted(qty: int) -> None:
    visit = _op(_visit(), "checklist", parts=[{"item": "Screws", "qty": qty}])
    assert visit["checklist"]["parts"][0]["qty"] == qty


@pytest.mark.parametrize(
    "qty",
    [0, -1, 1000, True, False, "2", 1.5, None],
)
def test_a_quantity_must_be_a_whole_number_from_1_to_999(qty: object) -> None:
    # Given a second part with a wrong quantity
    parts = [{"item": "PSU", "qty": 1}, {"item": "RAM 8 GB", "qty": qty}]

    # When the checklist is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "checklist", parts=parts)

    # Then the quantity is named by its path
    assert failed.value.by_field() == {"parts[1].qty": "expected a whole number from 1 to 999"}


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ("PSU", "parts"),
        ({"item": "PSU"}, "parts"),
        ([{"item": "PSU"}, "RAM"], "parts[1]"),
        ([{"item": "PSU"}, {"qty": 2}], "parts[1].item"),
        ([{"item": "PSU"}, {"item": "   "}], "parts[1].item"),
        ([{"item": "PSU"}, {"item": 7}], "parts[1].item"),
        ([{"item": "PSU"}, {"item": "x" * 201}], "parts[1].item"),
        ([{"item": "PSU"}] * (MAX_ITEMS + 1), "parts"),
    ],
    ids=[
        "text",
        "one item",
        "item not a mapping",
        "no name",
        "blank name",
        "name a number",
        "name too long",
        "too many",
    ],
)
def test_a_bad_item_is_named_by_its_path(parts: object, field: str) -> None:
    # Given a checklist with a bad part
    # When it is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "checklist", parts=parts)

    # Then the error names the part by its path, once
    assert _fields_of(failed) == [field]


def test_parts_and_tools_are_checked_together() -> None:
    # Given bad parts and bad tools
    # When the checklist is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(
            _visit(),
            "checklist",
            parts=[{"item": "PSU", "qty": 0}],
            tools=[{"item": "Discs"}, {"item": ""}],
        )

    # Then both are named
    assert _fields_of(failed) == ["parts[0].qty", "tools[1].item"]


def test_prepared_only_when_everything_is_packed_and_the_form_ready() -> None:
    # Given a checklist with two parts and a tool, nothing packed yet
    packed = {"packed": True}
    parts: list[dict[str, Any]] = [{"item": "PSU"}, {"item": "RAM", "qty": 2}]
    tools: list[dict[str, Any]] = [{"item": "Screwdriver"}]

    def checked(parts: list[dict[str, Any]], tools: list[dict[str, Any]], form_ready: bool) -> bool:
        visit = _op(_visit(), "checklist", parts=parts, tools=tools, form_ready=form_ready)
        return prepared(visit)

    # Then the visit is prepared only when every item is packed and the form is ready
    assert not checked(parts, tools, form_ready=True)
    assert not checked([{**p, **packed} for p in parts], tools, form_ready=True)
    assert not checked(parts[:1], [{**t, **packed} for t in tools], form_ready=True)
    everything = ([{**p, **packed} for p in parts], [{**t, **packed} for t in tools])
    assert not checked(*everything, form_ready=False)
    assert checked(*everything, form_ready=True)
    assert not prepared({})


# --- the service report and the closing rule ----------------------------------------------------


def test_a_signed_report_closes_the_visit() -> None:
    # Given an engineer who did the work on site
    visit = _through(_visit(), REQUIRED_STEPS)

    # When the report is signed and rated
    closed = _op(visit, "report", now=T0 + 3 * HOUR, **_report())

    # Then the visit is closed with the report
    assert closed["state"] == "closed"
    assert closed["report"] == {
        "work_done": "Replaced the power supply; the machine starts.",
        "parts_used": [{"item": "PSU 300 W", "packed": False, "qty": 1}],
        "minutes_on_site": 45,
        "signature": SIGNATURE,
        "signer_name": "Li Wei",
        "no_signature_reason": "",
        "rating": 5,
        "comment": "服务很好,谢谢!",
        "closed_at": _iso(T0 + 3 * HOUR),
        "closed_by": "Ola Hansen",
    }
    assert closed["steps"] == visit["steps"]


def test_the_report_needs_the_arrival_first() -> None:
    # Given a visit nobody has arrived at
    # When the report is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "report", **_report())

    # Then the state is named
    assert failed.value.by_field() == {"state": "record the arrival before the report"}


def test_the_report_needs_the_work_done_and_the_time_on_site() -> None:
    # Given an engineer on site
    # When the report says neither what was done nor how long it took
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(work_done="  ", minutes_on_site=...))

    # Then both are named
    assert failed.value.by_field() == {
        "work_done": "is empty: say what was done",
        "minutes_on_site": "expected the minutes on site (1 to 1440)",
    }


@pytest.mark.parametrize("minutes", [0, -5, 1441, True, "45", 45.0, None])
def test_the_minutes_on_site_are_from_1_to_1440(minutes: object) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(minutes_on_site=minutes))
    assert _fields_of(failed) == ["minutes_on_site"]


@pytest.mark.parametrize("minutes", [1, 1440])
def test_the_minutes_on_site_limits_are_accepted(minutes: int) -> None:
    closed = _op(_on_site(), "report", **_report(minutes_on_site=minutes))
    assert closed["report"]["minutes_on_site"] == minutes


@pytest.mark.parametrize(
    "signature",
    [..., "", None],
    ids=["missing", "empty", "none"],
)
def test_no_closing_without_a_signature_or_why_not(signature: object) -> None:
    # Given an engineer on site
    # When the report has no signature and no reason why
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(signature=signature))

    # Then the signature is named, and the message says a reason would do
    message = failed.value.by_field()["signature"]
    assert _fields_of(failed) == ["signature"]
    assert message.endswith("(or record why the customer could not sign)")


def test_a_bad_signature_without_a_reason_mentions_the_reason() -> None:
    # Given an engineer on site
    # When the signature is not a PNG
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(signature=GIF))

    # Then the signature is named, with both ways out
    assert failed.value.by_field() == {
        "signature": "is not a signature image (expected PNG, base64)"
        " (or record why the customer could not sign)"
    }


def test_the_engineer_may_close_without_a_signature_by_recording_why() -> None:
    # Given an engineer on site whose customer had to leave
    # When the report has no signature but says why
    closed = _op(
        _on_site(),
        "report",
        **_report(signature=..., signer_name=..., no_signature_reason="Customer left early"),
    )

    # Then it is closed, with the reason and no signer
    assert closed["state"] == "closed"
    assert closed["report"]["signature"] is None
    assert closed["report"]["signer_name"] == ""
    assert closed["report"]["no_signature_reason"] == "Customer left early"


def test_a_signature_makes_the_reason_unneeded() -> None:
    # Given a report with both a signature and a reason
    closed = _op(_on_site(), "report", **_report(no_signature_reason="Customer left early"))

    # Then the signature stands and the reason is dropped
    assert closed["report"]["signature"] == SIGNATURE
    assert closed["report"]["no_signature_reason"] == ""


def test_a_bad_signature_is_refused_even_with_a_reason() -> None:
    # Given a report with a reason and a signature that is not an image
    # When it is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(signature="abc", no_signature_reason="Left early"))

    # Then the signature is named (what was sent is not silently dropped)
    assert _fields_of(failed) == ["signature"]


def test_a_signature_needs_the_signers_name() -> None:
    # Given a signed report without the signer's name
    # When it is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(signer_name=" "))

    # Then the name is named
    assert failed.value.by_field() == {"signer_name": "is empty: the name of who signed"}


@pytest.mark.parametrize("rating", [None, 1, 3, 5])
def test_the_rating_is_1_to_5_stars_or_none(rating: int | None) -> None:
    closed = _op(_on_site(), "report", **_report(rating=rating))
    assert closed["report"]["rating"] == rating


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.5])
def test_a_rating_outside_1_to_5_is_refused(rating: object) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "report", **_report(rating=rating))
    assert failed.value.by_field() == {"rating": "expected 1 to 5 stars"}


def test_the_report_names_every_field_at_fault_at_once() -> None:
    # Given a report with everything wrong
    # When it is sent
    with pytest.raises(ValidationFailed) as failed:
        _op(
            _on_site(),
            "report",
            work_done="",
            parts_used=[{"item": "PSU", "qty": 0}],
            minutes_on_site=0,
            rating=9,
            comment=5,
        )

    # Then each is named
    assert sorted(_fields_of(failed)) == [
        "comment",
        "minutes_on_site",
        "parts_used[0].qty",
        "rating",
        "signature",
        "work_done",
    ]


def test_reporting_again_changes_nothing() -> None:
    # Given a closed visit
    closed = _op(_on_site(), "report", now=T0 + 3 * HOUR, **_report())
    before = copy.deepcopy(closed)

    # When the same report is sent again (the outbox replays it)
    again = _op(closed, "report", now=T0 + 4 * HOUR, **_report())
    # Then nothing changes; but a different report is refused, so the desk keeps it to show
    with pytest.raises(ValidationFailed) as refused:
        _op(closed, "report", now=T0 + 4 * HOUR, **_report(work_done="Something else"))
    assert _fields_of(refused) == ["state"] and "kept on your desk" in str(refused.value)
    assert again == before
    assert closed == before


def test_a_different_disk_consent_after_one_was_recorded_is_refused_not_dropped() -> None:
    visit = _through(_visit(), ["arrival", "introduction", "reproduce", "explain"])
    visit = _through(visit, ["consent_open", "solution", "disk_consent"])
    assert _step(visit, "disk_consent") == visit  # the same one again: a replay
    with pytest.raises(ValidationFailed) as refused:
        _step(visit, "disk_consent", consent_by="Somebody Else")
    assert _fields_of(refused) == ["step"]


def test_a_step_timed_ahead_of_the_clock_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _op(_visit(), "step", now=T0, step="arrival", at=_iso(T0 + HOUR))
    assert _fields_of(refused) == ["at"]


@pytest.mark.parametrize(
    ("op", "fields"),
    [
        ("step", {"step": "backup_advice"}),
        ("step", {"step": "introduction"}),
        ("checklist", {"form_ready": True}),
        ("running_late", {"eta": _iso(END + HOUR)}),
        ("cancel", {"reason": "Customer called"}),
    ],
    ids=["next step", "step done already", "checklist", "running late", "cancel"],
)
def test_after_closing_the_visit_takes_no_more_steps(op: str, fields: dict[str, Any]) -> None:
    # Given a visit closed after the introduction
    closed = _op(_through(_visit(), REQUIRED_STEPS[:2]), "report", **_report())

    # When anything else is recorded
    with pytest.raises(ValidationFailed) as failed:
        apply_visit_op(closed, op, fields, OLA, now=T0 + 4 * HOUR)

    # Then it is refused, naming the state
    assert failed.value.by_field() == {"state": "the visit is closed"}


# --- cancelling ---------------------------------------------------------------------------------


def test_cancelling_needs_a_reason() -> None:
    # Given a scheduled visit
    # When the agent cancels it without saying why
    with pytest.raises(ValidationFailed) as failed:
        _op(_visit(), "cancel", actor=KARI, reason="  ")

    # Then the reason is named
    assert failed.value.by_field() == {"reason": "is empty: say why the visit is cancelled"}


def test_a_cancelled_visit_keeps_why_and_takes_no_steps() -> None:
    # Given a scheduled visit
    # When the agent cancels it
    visit = _op(_visit(), "cancel", actor=KARI, now=T0, reason="Customer fixed it")

    # Then it is cancelled with why, when and by whom
    assert visit["state"] == "cancelled"
    assert visit["cancelled"] == {
        "at": _iso(T0),
        "by": "Kari Nordmann",
        "reason": "Customer fixed it",
    }

    # And cancelling again changes nothing
    assert _op(visit, "cancel", actor=PER, reason="Other") == visit

    # And the engineer can no longer arrive
    with pytest.raises(ValidationFailed) as failed:
        _step(visit, "arrival")
    assert failed.value.by_field() == {"state": "the visit is cancelled"}


def test_a_visit_on_site_cannot_be_cancelled() -> None:
    # Given an engineer on site
    # When a supervisor cancels the visit
    with pytest.raises(ValidationFailed) as failed:
        _op(_on_site(), "cancel", actor=PER, reason="Customer called")

    # Then it is refused: the engineer closes it with a report
    assert failed.value.by_field() == {"state": "the engineer is on site: close it"}


# --- the day's visits ---------------------------------------------------------------------------


def _at(visit_id: str, start: dt.datetime, state: str = "scheduled") -> dict[str, Any]:
    visit = new_visit(
        _schedule(window_start=_iso(start), window_end=_iso(start + 2 * HOUR)),
        KARI,
        OLA_ENGINEER,
        visit_id=visit_id,
        now=T0 - DAY,
    )
    visit["state"] = state
    return visit


def test_the_days_visits_are_open_ones_starting_that_day_earliest_first() -> None:
    # Given visits on Monday and Tuesday, some closed or cancelled
    monday = dt.date(2026, 11, 23)
    records = [
        _at("v-late", T0 + 6 * HOUR),
        _at("v-b", T0),
        _at("v-a", T0),
        _at("v-site", T0 - HOUR, state="on_site"),
        _at("v-closed", T0 + HOUR, state="closed"),
        _at("v-cancelled", T0 + 2 * HOUR, state="cancelled"),
        _at("v-tuesday", T0 + DAY),
    ]

    # When Monday's visits are listed in UTC
    found = visits_for_day(records, monday, dt.UTC)

    # Then they are the open ones that start that day, earliest first (then by id)
    assert [v["id"] for v in found] == ["v-site", "v-a", "v-b", "v-late"]


def test_the_day_is_taken_in_the_given_time_zone() -> None:
    # Given a visit at 23:30 UTC on Monday (07:30 on Tuesday in Shanghai)
    visit = _at("v-1", dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))
    monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    shanghai = ZoneInfo("Asia/Shanghai")

    # Then it is Monday's in UTC and Tuesday's in Shanghai (and in Oslo, at 00:30)
    assert [v["id"] for v in visits_for_day([visit], monday, dt.UTC)] == ["v-1"]
    assert visits_for_day([visit], monday, shanghai) == []
    assert [v["id"] for v in visits_for_day([visit], tuesday, shanghai)] == ["v-1"]
    assert [v["id"] for v in visits_for_day([visit], tuesday, ZoneInfo("Europe/Oslo"))] == ["v-1"]


def test_the_days_visits_are_copies() -> None:
    # Given a visit
    visit = _at("v-1", T0)

    # When the list is changed
    visits_for_day([visit], dt.date(2026, 11, 23), dt.UTC)[0]["state"] = "closed"

    # Then the record is not
    assert visit["state"] == "scheduled"


def test_upcoming_visits_are_open_ones_soonest_first() -> None:
    # Given visits in the past, running now and in the future
    records = [
        _at("v-next-week", T0 + 7 * DAY),
        _at("v-tomorrow", T0 + DAY),
        _at("v-now", T0 - HOUR, state="on_site"),
        _at("v-this-morning", T0 - 10 * HOUR),
        _at("v-yesterday", T0 - 2 * DAY),
        _at("v-closed", T0 + HOUR, state="closed"),
        _at("v-cancelled", T0 + 2 * HOUR, state="cancelled"),
    ]

    # When the upcoming visits are listed
    found = upcoming(records, T0)

    # Then the open ones, ending no more than 12 hours ago, come soonest first
    assert [v["id"] for v in found] == ["v-this-morning", "v-now", "v-tomorrow", "v-next-week"]


# --- the introduction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Hello, I am Ola Hansen, the engineer from Acme IT, here to fix your fault."),
        ("zh_CN", "您好,我是Acme IT的工程师Ola Hansen,来为您排除故障。"),
        ("zh", "您好,我是Acme IT的工程师Ola Hansen,来为您排除故障。"),
        ("nb", "Hei, jeg er Ola Hansen, tekniker fra Acme IT, og er her for å rette feilen."),
        ("fr", "Hello, I am Ola Hansen, the engineer from Acme IT, here to fix your fault."),
    ],
)
def test_the_introduction_is_said_in_the_customers_language(language: str, expected: str) -> None:
    assert introduction(language, "Ola Hansen", "Acme IT") == expected


# --- offline edits merging ----------------------------------------------------------------------

#: Times carried by the steps (the desk sends each with the time it was done).
PACKED_AT = T0 - 2 * HOUR
CALLED_AT = END - 15 * MINUTE
ARRIVED_AT = END + 40 * MINUTE


def _engineers_outbox() -> list[tuple[str, dict[str, Any], Actor]]:
    """What the engineer did with the laptop offline, in order, each carrying its time."""
    checklist = {
        "parts": [{"item": "PSU 300 W", "qty": 1, "packed": True}],
        "tools": [{"item": "Screwdriver set", "packed": True}],
        "form_ready": True,
        "at": _iso(PACKED_AT),
    }
    late = {"eta": _iso(END + HOUR), "reason": "Traffic on E18", "at": _iso(CALLED_AT)}
    steps = [
        ("step", {"step": step, **_step_fields(step), "at": _iso(ARRIVED_AT + i * MINUTE)}, OLA)
        for i, step in enumerate([*REQUIRED_STEPS[:6], "disk_consent", "disk_operation"])
    ]
    return [("checklist", checklist, OLA), ("running_late", late, OLA), *steps]


def _replay(
    record: Mapping[str, Any],
    ops: Sequence[tuple[str, dict[str, Any], Actor]],
    now: dt.datetime,
) -> dict[str, Any]:
    out = dict(record)
    for op, fields, actor in ops:
        out = apply_visit_op(out, op, fields, actor, now=now)
    return out


def test_offline_steps_give_the_same_visit_on_the_desk_and_on_the_server() -> None:
    # Given what the engineer recorded offline, and the dispatcher's note that the engineer
    # phoned in late (recorded on the server by a supervisor while the laptop was offline)
    outbox = _engineers_outbox()
    phoned_in = (
        "running_late",
        {"eta": _iso(END + HOUR), "reason": "Phoned the office", "at": _iso(CALLED_AT)},
        PER,
    )
    checklist, late, *steps = outbox

    # When the desk applies its own steps as they happen, and the supervisor's note after
    # the late call when it syncs back
    desk = _replay(_visit(), [checklist, late, phoned_in, *steps], now=ARRIVED_AT)
    # And the server sees the supervisor's note first, then the desk's outbox hours later
    server = _replay(_visit(), [phoned_in, checklist, late, *steps], now=T0 + 8 * HOUR)

    # Then both hold the same steps, checklist, late calls and on-time verdict
    assert desk["state"] == server["state"] == "on_site"
    assert desk["steps"] == server["steps"]
    assert desk["checklist"] == server["checklist"]
    assert desk["eta"] == server["eta"] == _iso(END + HOUR)
    assert desk["steps"]["arrival"]["on_time"] is True
    assert sorted(desk["late"], key=str) == sorted(server["late"], key=str)
    assert {late["by"] for late in server["late"]} == {"Ola Hansen", "Per Olsen"}
    assert prepared(server)


def test_replaying_the_outbox_on_the_result_changes_nothing() -> None:
    # Given the server has applied the engineer's outbox
    outbox = _engineers_outbox()
    server = _replay(_visit(), outbox, now=T0 + 8 * HOUR)
    before = copy.deepcopy(server)

    # When the desk, not having heard back, sends the whole outbox again, later
    again = _replay(server, outbox, now=T0 + 9 * HOUR)

    # Then nothing changes: each step, the late call and the checklist are there once
    assert again == before
    assert len(again["late"]) == 1
    assert list(again["steps"]) == [*REQUIRED_STEPS[:6], "disk_consent", "disk_operation"]


def test_replaying_the_report_on_the_closed_visit_changes_nothing() -> None:
    # Given the server has the engineer's offline steps and the signed report
    report = ("report", {**_report(), "at": _iso(ARRIVED_AT + HOUR)}, OLA)
    server = _replay(_visit(), [*_engineers_outbox(), report], now=T0 + 8 * HOUR)
    before = copy.deepcopy(server)

    # When the report is sent again
    again = _replay(server, [report], now=T0 + 9 * HOUR)

    # Then the closed visit is unchanged
    assert server["state"] == "closed"
    assert server["report"]["closed_at"] == _iso(ARRIVED_AT + HOUR)
    assert again == before


def test_a_cancel_after_the_offline_arrival_loses_nothing() -> None:
    # Given the engineer's offline steps reached the server first
    server = _replay(_visit(), _engineers_outbox(), now=T0 + 8 * HOUR)
    before = copy.deepcopy(server)

    # When the supervisor's cancel, made without knowing, arrives after them
    with pytest.raises(ValidationFailed) as failed:
        _op(server, "cancel", actor=PER, now=T0 + 8 * HOUR, reason="No word from the engineer")

    # Then it is refused because the engineer is on site, and nothing they did is lost
    assert failed.value.by_field() == {"state": "the engineer is on site: close it"}
    assert server == before
    assert server["state"] == "on_site"

    # And the engineer can still close the visit with the report
    closed = _op(server, "report", now=T0 + 9 * HOUR, **_report())
    assert closed["state"] == "closed"


def test_a_cancel_that_reached_the_server_first_refuses_the_offline_steps() -> None:
    # Given the supervisor cancelled on the server before the engineer's laptop synced
    cancelled = _op(_visit(), "cancel", actor=PER, now=END, reason="No word from the engineer")

    # When the engineer's outbox arrives
    checklist, *_ = _engineers_outbox()
    op, fields, actor = checklist

    # Then each step is refused naming the state, so the desk keeps it to show why
    with pytest.raises(ValidationFailed) as failed:
        apply_visit_op(cancelled, op, fields, actor, now=T0 + 8 * HOUR)
    assert failed.value.by_field() == {"state": "the visit is cancelled"}


def test_a_visit_appears_in_the_customers_history_with_its_report() -> None:
    # Given a scheduled visit, then the same visit closed with a signed report
    scheduled = history_entry(_visit())
    assert (scheduled["channel"], scheduled["state"]) == ("visit", "Scheduled")
    assert scheduled["notes"][0]["text"] == _visit()["fault"]
    closed = _op(_on_site(), "report", **_report())
    entry = history_entry(closed)
    # Then the history line carries the outcome and the work done, by the engineer
    assert entry["wrap_up"]["outcome"].startswith("Service report signed by")
    assert entry["notes"][-1]["text"] == "Replaced the power supply; the machine starts."
    assert entry["answered_by"] == closed["engineer_name"]


def test_only_the_engineer_the_scheduler_or_a_supervisor_cancels_a_visit() -> None:
    stranger = Actor(user_id="u-lin", username="lin", full_name="Lin Berg", department="Support")
    with pytest.raises(ValidationFailed) as refused:
        _op(_visit(), "cancel", actor=stranger, reason="Not needed")
    assert _fields_of(refused) == ["state"]
    assert _op(_visit(), "cancel", actor=KARI, reason="Fixed by phone")["state"] == "cancelled"
