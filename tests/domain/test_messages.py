"""Messages taken for a colleague (DOMAIN §5) and the callbacks they promise (DOMAIN §9).

The caller's number and time zone, the message record and its steps, the inbox and the
escalation list, and the read-back in the caller's language and time. The same rules run on
the desk and on the server, so every rule takes the time as an argument; these tests use
fixed times and never the wall clock.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from agentdesk.domain.contacts import Actor, open_promises
from agentdesk.domain.customers import normalise_timezone
from agentdesk.domain.errors import FieldValueError, ValidationFailed
from agentdesk.domain.messages import (
    Escalation,
    Recipient,
    apply_message_op,
    caller_time,
    check_phone,
    escalations,
    inbox_order,
    is_overdue,
    is_recipient,
    new_message,
    propose_timezone,
    read_back,
    split_name,
    unread_count,
    wall_time,
    window_text,
    zone_abbreviation,
    zones_for_number,
)

#: Monday 23 November 2026, 10:00 in Oslo and 17:00 in Shanghai.
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

KARI = Actor(user_id="u-kari", username="kari", full_name="Kari Nordmann")
ANNE_AT_DESK = Actor(
    user_id="u-anne", username="anne", full_name="Anne Larsen", department="Support"
)
OLA_AT_DESK = Actor(user_id="u-ola", username="ola", full_name="Ola Hansen", department="Field")
PER = Actor(user_id="u-per", username="per", full_name="Per Olsen", supervisor=True)

ANNE = Recipient(username="anne", full_name="Anne Larsen", user_id="u-anne", team="Support")
OLA = Recipient(username="ola", full_name="Ola Hansen", user_id="u-ola", team="Field")
SUPPORT = Recipient(team="Support")
NOBODY = Recipient()

REQUIRED = (
    "first_name",
    "last_name",
    "organisation",
    "message",
    "for_user",
    "phone",
    "caller_timezone",
    "callback_after",
    "callback_before",
)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _fields(**changes: Any) -> dict[str, Any]:
    """A complete message from a caller in Beijing, for Anne; a change to None leaves it out.

    The caller wants a call back on Tuesday 24 November between 09:00 and 11:00 their time
    (01:00–03:00 UTC, 02:00–04:00 in Oslo).
    """
    fields: dict[str, Any] = {
        "first_name": "Wei",
        "last_name": "Zhang",
        "organisation": "Beijing Metro Ticketing",
        "phone": "+86 10 6552 9988",
        "message": "The ticket printers at Xizhimen print blank tickets.",
        "urgency": "high",
        "for_user": "anne",
        "caller_timezone": "Asia/Shanghai",
        "callback_after": "2026-11-24T09:00:00+08:00",
        "callback_before": "2026-11-24T11:00:00+08:00",
        "language": "en",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def _taken(recipient: Recipient = ANNE, now: dt.datetime = T0, **changes: Any) -> dict[str, Any]:
    """The message Kari took at ``now`` from the fields with ``changes``."""
    return new_message(_fields(**changes), KARI, recipient, message_id="m-1", now=now)


def _refused(
    fields: dict[str, Any], recipient: Recipient = ANNE, now: dt.datetime = T0
) -> ValidationFailed:
    """The ValidationFailed that taking a message with ``fields`` raises."""
    with pytest.raises(ValidationFailed) as failed:
        new_message(fields, KARI, recipient, message_id="m-1", now=now)
    return failed.value


def _fields_of(failed: ValidationFailed) -> list[str]:
    return [e.field for e in failed.errors]


# --- the caller's number ---------------------------------------------------------------------

PHONE_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
EXAMPLE_NUMBERS: list[tuple[str, Any]] = [
    (region, example)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in PHONE_TYPES
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


def _e164(number: Any) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _international(number: Any) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))


def _national(number: Any) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


@st.composite
def _written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid example number as someone might type it, and its E.164 form."""
    _, number = draw(st.sampled_from(EXAMPLE_NUMBERS))
    e164 = _e164(number)
    form = draw(st.sampled_from(["international", "e164", "00 international", "00 e164", "typed"]))
    if form == "international":
        typed = _international(number)
    elif form == "e164":
        typed = e164
    elif form == "00 international":
        typed = "00" + _international(number)[1:]
    elif form == "00 e164":
        typed = "00" + e164[1:]
    else:
        # Grouped any old way, with spaces, hyphens or dots, and stray blanks around it.
        digits = e164[1:]
        gaps = draw(
            st.lists(
                st.sampled_from(["", "", " ", "-", "."]),
                min_size=len(digits),
                max_size=len(digits),
            )
        )
        prefix = draw(st.sampled_from(["+", "00"]))
        grouped = "".join(d + gap for d, gap in zip(digits, gaps, strict=True)).rstrip(" -.")
        typed = f"  {prefix}{grouped} "
    return typed, e164


@settings(max_examples=200, database=None)
@given(case=_written_numbers())
def test_a_number_written_any_international_way_normalises_to_one_e164(
    case: tuple[str, str],
) -> None:
    # Given a valid number of some region, written with +, with 00, grouped or not
    typed, expected = case
    # When it is checked
    e164, display = check_phone(typed)
    # Then it is always the same E.164 number
    assert e164 == expected
    # And the form shown to the agent reads back as the same number
    assert check_phone(display) == (e164, display)


@settings(max_examples=200, database=None)
@given(case=st.sampled_from(EXAMPLE_NUMBERS))
def test_a_number_in_national_form_is_read_in_its_region_and_refused_without_one(
    case: tuple[str, Any],
) -> None:
    # Given a valid number written the way its own country writes it, without country code
    region, number = case
    typed = _national(number)
    # When it is checked with no default region
    with pytest.raises(FieldValueError) as refused:
        check_phone(typed)
    # Then it is refused, saying the country code is missing and how to write it
    assert "country code" in str(refused.value)
    assert "+" in str(refused.value)
    # And read in its own region it is the same number as in international form
    assert check_phone(typed, region)[0] == _e164(number)


def _without_area_code(region: str, number: Any) -> str | None:
    """The number with its area code cut off, if it has one and the rest is no valid number."""
    area = phonenumbers.length_of_geographical_area_code(number)
    if not area:
        return None
    rest = str(phonenumbers.national_significant_number(number))[area:]
    cut = f"+{number.country_code} {rest}"
    # In a few plans (EG, MG, MM, SM) the rest happens to be another valid number.
    if phonenumbers.is_valid_number(phonenumbers.parse(cut, None)):
        return None
    return cut


CUT_NUMBERS = [
    cut
    for region, number in EXAMPLE_NUMBERS
    if number == phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
    and (cut := _without_area_code(region, number)) is not None
]


def test_the_numbers_with_area_codes_span_many_regions() -> None:
    # Given the fixed-line numbers the area-code property draws from
    # Then there are many of them, from all over the world
    assert len(CUT_NUMBERS) > 100
    assert {c[:3] for c in CUT_NUMBERS} >= {"+86", "+39", "+1 ", "+44", "+49", "+33"}


@settings(max_examples=200, database=None)
@given(cut=st.sampled_from(CUT_NUMBERS))
def test_a_number_with_its_area_code_cut_off_is_refused_asking_for_it(cut: str) -> None:
    # Given a fixed-line number typed with its country code but without its area code
    # When it is checked
    with pytest.raises(FieldValueError) as refused:
        check_phone(cut)
    # Then it is refused, and the message asks for the area code (or says it is too short)
    message = str(refused.value)
    assert "area code" in message or "too short" in message
    # And quotes what was typed
    assert repr(cut) in message


@pytest.mark.parametrize(
    ("typed", "region"),
    [("+86 6552 9988", None), ("6552 9988", "CN"), ("+39 1234 5678", None), ("0047 5", None)],
)
def test_short_numbers_are_refused(typed: str, region: str | None) -> None:
    # Given a Beijing, Rome or Oslo number missing digits
    # When it is checked
    with pytest.raises(FieldValueError) as refused:
        check_phone(typed, region)
    # Then it is refused quoting the number as typed
    assert repr(typed) in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "e164", "display"),
    [
        ("+47 22 33 44 55", "+4722334455", "+47 22 33 44 55"),
        ("0086 10 6552 9988", "+861065529988", "+86 10 6552 9988"),
        ("+39 06 1234 5678", "+390612345678", "+39 06 1234 5678"),
        ("+1 (212) 555-0123", "+12125550123", "+1 212-555-0123"),
    ],
)
def test_a_number_is_kept_in_e164_and_shown_grouped(typed: str, e164: str, display: str) -> None:
    # Given a number from Oslo, Beijing, Rome or New York
    # When it is checked
    # Then it is kept in E.164 and shown grouped the international way
    assert check_phone(typed) == (e164, display)


def test_a_national_number_with_a_default_region_is_accepted() -> None:
    # Given an Oslo number typed the Norwegian way on a desk set up for Norway
    # When it is checked
    # Then it is read as a Norwegian number
    assert check_phone("22 33 44 55", "NO") == ("+4722334455", "+47 22 33 44 55")


# --- the caller's time zone, from the number -------------------------------------------------


def _keeps_the_clock_of(zone_a: str, zone_b: str) -> bool:
    """Whether two zones show the same time all through 2026 (hour by hour)."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    moments = (start + n * HOUR for n in range(0, 365 * 24, 7))
    a, b = ZoneInfo(zone_a), ZoneInfo(zone_b)
    return all(m.astimezone(a).utcoffset() == m.astimezone(b).utcoffset() for m in moments)


@settings(max_examples=200, database=None)
@given(case=st.sampled_from(EXAMPLE_NUMBERS))
def test_the_zone_proposed_for_a_number_is_a_real_zone_the_message_accepts(
    case: tuple[str, Any],
) -> None:
    # Given a valid number of some region
    e164 = _e164(case[1])
    # When the zones it may be in are looked up and one is proposed
    zones = zones_for_number(e164)
    proposed = propose_timezone(e164)
    # Then every zone is an IANA zone zoneinfo knows
    assert zones
    for name in zones:
        ZoneInfo(name)
    if proposed is None:
        # And nothing is proposed only when the zones keep different clocks
        assert len(zones) > 1
        assert not all(_keeps_the_clock_of(zones[0], other) for other in zones[1:])
    else:
        # And a proposal is one of them, is accepted as a caller's zone, and keeps the
        # same clock as every other zone the number may be in
        assert proposed in zones
        assert normalise_timezone(proposed) == proposed
        assert all(_keeps_the_clock_of(proposed, other) for other in zones)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+47 22 33 44 55", "Europe/Oslo"),  # Oslo
        ("+47 55 12 34 56", "Europe/Oslo"),  # Bergen
        ("+86 10 6552 9988", "Asia/Shanghai"),  # Beijing
        ("+86 20 1234 5678", "Asia/Shanghai"),  # Guangzhou
        ("+86 138 0013 8000", "Asia/Shanghai"),  # a mobile
        ("+39 06 1234 5678", "Europe/Rome"),  # Rome
        ("+39 02 1234 5678", "Europe/Rome"),  # Milan
        ("+39 312 345 6789", "Europe/Rome"),  # a mobile
    ],
)
def test_a_number_of_a_single_zone_country_gets_that_zone(typed: str, expected: str) -> None:
    # Given a number from Norway, China or Italy, each on one clock
    e164, _ = check_phone(typed)
    # When its time zone is proposed
    # Then it is the country's zone
    assert propose_timezone(e164) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+1 212 555 0123", "America/New_York"),
        ("+1 617 555 0123", "America/New_York"),
        ("+1 312 555 0123", "America/Chicago"),
        ("+1 713 555 0123", "America/Chicago"),
        ("+1 303 555 0123", "America/Denver"),
        ("+1 602 555 0123", "America/Phoenix"),
        ("+1 415 555 0123", "America/Los_Angeles"),
        ("+1 206 555 0123", "America/Los_Angeles"),
    ],
)
def test_a_us_number_gets_the_zone_of_its_area_code(typed: str, expected: str) -> None:
    # Given a number in the USA, where the area code tells the zone
    e164, _ = check_phone(typed)
    # When its time zone is proposed
    proposed = propose_timezone(e164)
    # Then it is the area code's zone
    assert proposed == expected
    assert zones_for_number(e164) == [expected]


def test_a_norwegian_mobile_gets_a_zone_on_oslo_time() -> None:
    # Given a Norwegian mobile number (the numbering plan also covers Svalbard)
    proposed = propose_timezone(check_phone("+47 912 34 567")[0])
    # When its time zone is proposed
    # Then it keeps Oslo's clock
    assert proposed is not None
    assert _keeps_the_clock_of(proposed, "Europe/Oslo")


@pytest.mark.parametrize(
    "typed",
    [
        "+1 800 555 0123",  # toll-free: anywhere from Hawaii to Newfoundland
        "+1 268 464 1234",  # an Antigua mobile: under +1, not told apart by area code
        "+34 612 34 56 78",  # a Spanish mobile: Madrid or the Canaries
        "+61 412 345 678",  # an Australian mobile: Perth to Sydney
    ],
)
def test_a_number_that_does_not_tell_the_clock_gets_no_proposal(typed: str) -> None:
    # Given a number that may be in zones keeping different clocks
    e164, _ = check_phone(typed)
    assert len(zones_for_number(e164)) > 1
    # When its time zone is proposed
    # Then there is no proposal (a guess would put the callback at the wrong hour)
    assert propose_timezone(e164) is None


@pytest.mark.parametrize("text", ["", "+", "not a number", "+999 1234"])
def test_something_that_is_no_number_has_no_zones(text: str) -> None:
    # Given text that is not a phone number
    # Then it has no zones and gets no proposal
    assert zones_for_number(text) == []
    assert propose_timezone(text) is None


# --- the caller's wall clock -----------------------------------------------------------------

ZONES = (
    "Europe/Oslo",
    "America/New_York",
    "Asia/Shanghai",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "UTC",
)


def _tz(name: str) -> dt.tzinfo:
    return dt.UTC if name == "UTC" else ZoneInfo(name)


def _changes(name: str, years: range) -> list[dt.datetime]:
    """The wall-clock times at which the clocks change in zone ``name``, as read just before.

    Oslo in spring is 02:00 (the clocks jump to 03:00), in autumn 03:00 (back to 02:00).
    """
    tz = _tz(name)
    start = dt.datetime(years.start, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(years.stop, 1, 1, tzinfo=dt.UTC)
    found: list[dt.datetime] = []
    day = start
    while day < end:
        lo, hi = day, day + DAY
        before = lo.astimezone(tz).utcoffset()
        if before != hi.astimezone(tz).utcoffset():
            while hi - lo > SECOND:
                middle = lo + (hi - lo) / 2
                if middle.astimezone(tz).utcoffset() == before:
                    lo = middle
                else:
                    hi = middle
            assert before is not None
            # The clocks change on the minute: the first instant with the new offset.
            change = hi.replace(second=0, microsecond=0)
            found.append((change + before).replace(tzinfo=None))
        day += DAY
    return found


CHANGES = {name: _changes(name, range(2025, 2028)) for name in ZONES}


def _instants(local: dt.datetime, name: str) -> list[dt.datetime]:
    """Every instant at which the clock on the wall in ``name`` reads ``local``."""
    tz = _tz(name)
    around = (local.replace(tzinfo=dt.UTC) + n * HOUR for n in range(-48, 49))
    offsets = {m.astimezone(tz).utcoffset() for m in around}
    found = set()
    for offset in offsets:
        assert offset is not None
        moment = (local - offset).replace(tzinfo=dt.UTC)
        if moment.astimezone(tz).replace(tzinfo=None) == local:
            found.add(moment)
    return sorted(found)


@st.composite
def _wall_times(draw: st.DrawFn) -> tuple[dt.datetime, str]:
    """A wall-clock time and a zone: any time at all, or one close to a change of the clocks."""
    if draw(st.booleans()):
        name = draw(st.sampled_from([name for name in ZONES if CHANGES[name]]))
        local = draw(st.sampled_from(CHANGES[name])) + draw(st.integers(-75, 75)) * MINUTE
    else:
        name = draw(st.sampled_from(ZONES))
        local = draw(
            st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 12, 31))
        )
    return local, name


def test_the_changes_of_the_clocks_are_found_where_they_are() -> None:
    # Given the clock changes the wall-clock property draws near
    # Then they are the ones the zones keep: two a year with summer time, none without
    assert dt.datetime(2026, 3, 29, 2, 0) in CHANGES["Europe/Oslo"]
    assert dt.datetime(2026, 10, 25, 3, 0) in CHANGES["Europe/Oslo"]
    assert dt.datetime(2026, 4, 5, 3, 0) in CHANGES["Australia/Sydney"]
    assert dt.datetime(2026, 3, 8, 2, 0) in CHANGES["America/St_Johns"]
    for name in ("Europe/Oslo", "America/New_York", "Australia/Sydney", "Pacific/Auckland"):
        assert len(CHANGES[name]) == 6
    for name in ("Asia/Shanghai", "Asia/Kolkata", "Pacific/Kiritimati", "UTC"):
        assert CHANGES[name] == []


@settings(max_examples=200, database=None)
@given(case=_wall_times())
def test_a_wall_clock_time_is_refused_only_when_it_does_not_exist_and_else_round_trips(
    case: tuple[dt.datetime, str],
) -> None:
    # Given a wall-clock time as the caller reads it in their zone
    local, name = case
    exists = _instants(local, name)
    # When it is turned into an instant for the field callback_after
    try:
        moment = caller_time(local, name, "callback_after")
    except ValidationFailed as failed:
        # Then it is refused only if the clocks skip it, naming the field and why
        event("skipped by the clocks")
        assert not exists
        assert _fields_of(failed) == ["callback_after"]
        assert "clocks change" in failed.errors[0].message
        return
    # Or else it is an instant in UTC that shows the same time on the caller's wall
    event("happens twice" if len(exists) > 1 else "happens once")
    assert exists
    assert moment.utcoffset() == dt.timedelta(0)
    assert wall_time(moment, name).replace(tzinfo=None) == local
    # And a time that happens twice (the autumn change) means the first of the two
    assert moment == exists[0]


@settings(max_examples=200, database=None)
@given(case=_wall_times(), minutes=st.integers(15, 12 * 60))
def test_a_window_is_shown_in_the_callers_zone_as_the_caller_gave_it(
    case: tuple[dt.datetime, str], minutes: int
) -> None:
    # Given a callback window that opens at a time that exists on the caller's wall
    local, name = case
    local = local.replace(second=0, microsecond=0)
    try:
        after = caller_time(local, name, "callback_after")
    except ValidationFailed:
        return
    before = after + minutes * MINUTE
    # When it is shown in the caller's zone
    text = window_text(after, before, name)
    # Then it shows the opening the caller gave and the closing on their wall, with the day
    end = wall_time(before, name)
    assert text.startswith(f"{local:%a %d %b %H:%M}")
    assert f"{end:%H:%M} " in text
    if end.date() != local.date():
        assert f"{end:%a %d %b %H:%M}" in text
    # And the window keeps its length whatever the clocks do in between
    assert wall_time(before, name).astimezone(dt.UTC) - wall_time(after, name) == (minutes * MINUTE)


def test_a_time_the_clocks_skip_is_refused_saying_the_clocks_change() -> None:
    # Given 02:30 on 29 March 2026 in Oslo, when the clocks jump from 02:00 to 03:00
    # When it is given as the start of a callback window
    with pytest.raises(ValidationFailed) as failed:
        caller_time(dt.datetime(2026, 3, 29, 2, 30), "Europe/Oslo", "callback_after")
    # Then it is refused, naming the field, the zone and that the clocks change then
    assert _fields_of(failed.value) == ["callback_after"]
    message = failed.value.errors[0].message
    assert "does not exist" in message
    assert "Europe/Oslo" in message
    assert "clocks change" in message


def test_a_day_the_clocks_skip_entirely_is_refused() -> None:
    # Given 31 December 1994 in Kiritimati, which moved across the date line that day
    # When a time that day is given
    with pytest.raises(ValidationFailed) as failed:
        caller_time(dt.datetime(1994, 12, 31, 12, 0), "Pacific/Kiritimati", "callback_before")
    # Then it is refused naming the field
    assert _fields_of(failed.value) == ["callback_before"]


def test_a_time_that_happens_twice_means_the_first() -> None:
    # Given 02:30 on 25 October 2026 in Oslo, which happens in summer time and again in winter
    # When it is given as a callback time
    moment = caller_time(dt.datetime(2026, 10, 25, 2, 30), "Europe/Oslo", "callback_after")
    # Then it is the first of the two, 00:30 UTC (CEST, UTC+2)
    assert moment == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("local", "name", "utc"),
    [
        (dt.datetime(2026, 11, 24, 9, 0), "Asia/Shanghai", dt.datetime(2026, 11, 24, 1, 0)),
        (dt.datetime(2026, 11, 24, 9, 0), "Asia/Kolkata", dt.datetime(2026, 11, 24, 3, 30)),
        (dt.datetime(2026, 11, 24, 9, 0), "America/St_Johns", dt.datetime(2026, 11, 24, 12, 30)),
        (dt.datetime(2026, 7, 24, 9, 0), "America/St_Johns", dt.datetime(2026, 7, 24, 11, 30)),
        (dt.datetime(2026, 11, 24, 9, 0), "Pacific/Kiritimati", dt.datetime(2026, 11, 23, 19, 0)),
        (dt.datetime(2026, 11, 24, 9, 0), "Pacific/Auckland", dt.datetime(2026, 11, 23, 20, 0)),
        (dt.datetime(2026, 7, 24, 9, 0), "Pacific/Auckland", dt.datetime(2026, 7, 23, 21, 0)),
        (dt.datetime(2026, 11, 24, 9, 0), "UTC", dt.datetime(2026, 11, 24, 9, 0)),
    ],
)
def test_a_wall_clock_time_is_the_instant_the_caller_means(
    local: dt.datetime, name: str, utc: dt.datetime
) -> None:
    # Given 09:00 on the caller's wall, in summer or winter, on a half-hour or +14 zone
    # When it is turned into an instant
    # Then it is the right instant in UTC
    assert caller_time(local, name, "callback_after") == utc.replace(tzinfo=dt.UTC)


def test_a_window_in_a_far_zone_shows_the_right_day_in_each_zone() -> None:
    # Given a caller in Auckland who wants a call on Tuesday 24 November, 09:00–11:00
    after = caller_time(dt.datetime(2026, 11, 24, 9, 0), "Pacific/Auckland", "callback_after")
    before = caller_time(dt.datetime(2026, 11, 24, 11, 0), "Pacific/Auckland", "callback_before")
    # When the window is shown to the caller and to an agent in Oslo
    # Then the caller sees their Tuesday morning, the agent their Monday evening
    assert window_text(after, before, "Pacific/Auckland") == "Tue 24 Nov 09:00–11:00 NZDT"
    assert window_text(after, before, "Europe/Oslo") == "Mon 23 Nov 21:00–23:00 CET"


def test_a_window_across_midnight_shows_both_days() -> None:
    # Given a window from 22:00 on Monday to 01:00 on Tuesday in Oslo
    after = caller_time(dt.datetime(2026, 11, 23, 22, 0), "Europe/Oslo", "callback_after")
    before = caller_time(dt.datetime(2026, 11, 24, 1, 0), "Europe/Oslo", "callback_before")
    # When it is shown
    # Then both days are named
    assert window_text(after, before, "Europe/Oslo") == "Mon 23 Nov 22:00 – Tue 24 Nov 01:00 CET"


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.datetime(2026, 10, 25), 4), (dt.datetime(2026, 3, 29), 2)],
)
def test_a_window_across_a_change_of_the_clocks_keeps_its_real_length(
    day: dt.datetime, hours: int
) -> None:
    # Given a window from 01:00 to 04:00 on the wall in Oslo, on the night the clocks go back
    # (an hour happens twice) or forward (an hour is skipped)
    after = caller_time(day.replace(hour=1), "Europe/Oslo", "callback_after")
    before = caller_time(day.replace(hour=4), "Europe/Oslo", "callback_before")
    # When it is taken and shown
    # Then it lasts as long as really passes between the two, and shows as given
    assert before - after == hours * HOUR
    assert "01:00–04:00" in window_text(after, before, "Europe/Oslo")


def test_an_absolute_window_across_the_autumn_change_shows_the_wall_clock() -> None:
    # Given a three-hour window that opens at 01:00 in Oslo on the night the clocks go back
    after = dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC)
    before = after + 3 * HOUR
    # When it is shown in Oslo
    # Then it closes at 03:00 on the wall (an hour happened twice), still three hours later
    assert "01:00–03:00" in window_text(after, before, "Europe/Oslo")
    assert wall_time(before, "Europe/Oslo") - after == 3 * HOUR


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Europe/Oslo", "CET"),
        ("America/New_York", "EST"),
        ("Asia/Shanghai", "CST"),
        ("Australia/Sydney", "AEDT"),
        ("Pacific/Auckland", "NZDT"),
        ("Asia/Kolkata", "IST"),
        ("America/St_Johns", "NST"),
        ("Pacific/Kiritimati", "UTC+14"),
        ("Asia/Kathmandu", "UTC+05:45"),
        ("America/Sao_Paulo", "UTC-3"),
        ("UTC", "UTC"),
    ],
)
def test_a_zone_is_labelled_by_its_abbreviation_or_its_offset(name: str, label: str) -> None:
    # Given a moment in late November
    # When its zone is labelled
    # Then the label is the usual abbreviation, or the offset from UTC when there is none
    assert zone_abbreviation(T0, name) == label


# --- taking a message ------------------------------------------------------------------------


def test_a_complete_message_is_taken_as_new_by_the_actor() -> None:
    # Given every part of a message, for Anne
    # When Kari takes it at T0
    record = _taken(phone="0086 10 6552 9988")
    # Then it is new, for Anne, taken by Kari, with the number in E.164 and grouped
    assert record["id"] == "m-1"
    assert record["state"] == "new"
    assert record["phone"] == "+861065529988"
    assert record["phone_display"] == "+86 10 6552 9988"
    assert record["first_name"] == "Wei"
    assert record["last_name"] == "Zhang"
    assert record["organisation"] == "Beijing Metro Ticketing"
    assert record["urgency"] == "high"
    assert record["caller_timezone"] == "Asia/Shanghai"
    assert record["for_user"] == "anne"
    assert record["for_user_id"] == "u-anne"
    assert record["for_name"] == "Anne Larsen"
    assert record["for_team"] == ""
    assert record["taken_by"] == "kari"
    assert record["taken_by_id"] == "u-kari"
    assert record["taken_by_name"] == "Kari Nordmann"
    assert record["taken_at"] == _iso(T0)
    assert record["outcome"] is None
    assert record["called_back_at"] is None
    # And the window is kept in UTC: 09:00–11:00 in Beijing is 01:00–03:00 UTC
    assert record["callback_after"] == "2026-11-24T01:00:00+00:00"
    assert record["callback_before"] == "2026-11-24T03:00:00+00:00"
    # And its history begins with Kari taking it for Anne
    assert record["history"] == [
        {"at": _iso(T0), "by": "Kari Nordmann", "what": "taken", "to": "Anne Larsen"}
    ]


def test_a_message_without_urgency_or_language_is_normal_and_in_english() -> None:
    # Given a message with no urgency and no language chosen
    record = _taken(urgency=None, language=None)
    # Then it is of normal urgency, read back in English
    assert record["urgency"] == "normal"
    assert record["language"] == "en"


def test_a_message_taken_offline_keeps_when_it_was_taken() -> None:
    # Given a message Kari took offline at 10:00 in Oslo, synced ten minutes later
    record = _taken(now=T0 + 10 * MINUTE, taken_at="2026-11-23T10:00:00+01:00")
    # Then it was taken at 10:00 in Oslo, and its history says when it reached the record
    assert record["taken_at"] == _iso(T0)
    assert record["history"][0]["at"] == _iso(T0 + 10 * MINUTE)


def test_a_message_for_a_team_is_for_its_members() -> None:
    # Given a message left for the Support team rather than a colleague
    record = _taken(SUPPORT, for_user=None, for_team="Support")
    # Then it is for the team, and every member sees it as theirs
    assert record["for_user"] == ""
    assert record["for_user_id"] is None
    assert record["for_team"] == "Support"
    assert record["for_name"] == "Support"
    assert is_recipient(record, ANNE_AT_DESK)
    assert not is_recipient(record, OLA_AT_DESK)


@pytest.mark.parametrize("missing", REQUIRED)
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_each_missing_part_of_a_message_is_named(missing: str, blank: str | None) -> None:
    # Given a message with one required part left out or blank
    fields = _fields(**{missing: blank})
    # When it is taken
    failed = _refused(fields)
    # Then exactly that part is named
    assert _fields_of(failed) == [missing]


def test_every_missing_part_is_named_at_once() -> None:
    # Given nothing filled in at all
    # When it is taken
    failed = _refused({}, NOBODY)
    # Then every required part is named, each once, so the form can mark them all
    assert sorted(_fields_of(failed)) == sorted(REQUIRED)


def test_the_missing_parts_say_what_to_ask() -> None:
    # Given a message without the caller's name or organisation
    failed = _refused(_fields(first_name=None, last_name=" ", organisation=None))
    # Then each message says what to ask the caller
    messages = failed.by_field()
    assert "first name" in messages["first_name"]
    assert "last name" in messages["last_name"]
    assert "organisation" in messages["organisation"]


@pytest.mark.parametrize("urgency", ["whenever", "URGENT", 3, ["high"]])
def test_an_unknown_urgency_is_refused_listing_the_choices(urgency: Any) -> None:
    # Given an urgency that is not one of the four (or not even text)
    # When the message is taken
    failed = _refused(_fields(urgency=urgency))
    # Then the urgency is named, with the choices
    assert _fields_of(failed) == ["urgency"]
    assert "urgent, high, normal, low" in failed.errors[0].message


@pytest.mark.parametrize("language", ["fr", ["zh"]])
def test_an_unknown_language_is_refused(language: Any) -> None:
    # Given a read-back language the desk does not speak
    # When the message is taken
    failed = _refused(_fields(language=language))
    # Then the language is named
    assert _fields_of(failed) == ["language"]


def test_the_short_chinese_language_code_is_understood() -> None:
    # Given the caller's language as "zh"
    # Then the message is read back in simplified Chinese
    assert _taken(language="zh")["language"] == "zh_CN"


def test_a_bad_phone_number_is_named_with_the_reason() -> None:
    # Given a Beijing number without its area code
    failed = _refused(_fields(phone="+86 6552 9988"))
    # Then the phone is named, asking for the area code
    assert _fields_of(failed) == ["phone"]
    assert "area code" in failed.errors[0].message


def test_an_unknown_time_zone_is_named() -> None:
    # Given a caller's time zone that does not exist
    failed = _refused(_fields(caller_timezone="Mars/Olympus_Mons"))
    # Then the zone is named
    assert _fields_of(failed) == ["caller_timezone"]


@pytest.mark.parametrize("before", ["2026-11-24T08:00:00+08:00", "2026-11-24T09:00:00+08:00"])
def test_a_window_that_closes_before_it_opens_is_refused(before: str) -> None:
    # Given a window from 09:00 that closes at 08:00 (or at 09:00)
    failed = _refused(_fields(callback_before=before))
    # Then the end of the window is named
    assert _fields_of(failed) == ["callback_before"]
    assert "later than the start" in failed.errors[0].message


def test_a_window_that_has_passed_is_refused() -> None:
    # Given a window that closed an hour ago (T0 is 17:00 in Beijing)
    failed = _refused(
        _fields(
            callback_after="2026-11-23T15:00:00+08:00",
            callback_before="2026-11-23T16:00:00+08:00",
        )
    )
    # Then its end is named: it must be in the future
    assert _fields_of(failed) == ["callback_before"]
    assert "passed" in failed.errors[0].message


def test_a_window_that_closes_at_this_very_moment_is_refused() -> None:
    # Given a window that closes exactly when the message is taken
    failed = _refused(
        _fields(
            callback_after="2026-11-23T16:00:00+08:00",
            callback_before="2026-11-23T17:00:00+08:00",
        )
    )
    # Then its end is named: there is no time left to call
    assert _fields_of(failed) == ["callback_before"]


def test_a_window_that_is_open_now_is_accepted() -> None:
    # Given a window that opened an hour ago and closes in an hour
    record = _taken(
        callback_after="2026-11-23T16:00:00+08:00", callback_before="2026-11-23T18:00:00+08:00"
    )
    # Then the message is taken
    assert record["callback_before"] == _iso(T0 + HOUR)


def test_a_window_too_far_ahead_is_refused() -> None:
    # Given a window more than 90 days ahead
    failed = _refused(
        _fields(
            callback_after="2027-03-01T09:00:00+08:00",
            callback_before="2027-03-01T11:00:00+08:00",
        )
    )
    # Then its end is named
    assert _fields_of(failed) == ["callback_before"]
    assert "90 days" in failed.errors[0].message


@pytest.mark.parametrize("key", ["callback_after", "callback_before"])
@pytest.mark.parametrize(
    "value", ["2026-11-24T10:00:00", dt.datetime(2026, 11, 24, 10, 0), "tomorrow morning"]
)
def test_a_window_time_without_an_offset_is_refused_naming_it(key: str, value: Any) -> None:
    # Given a callback time without a zone offset (or not a time at all)
    failed = _refused(_fields(**{key: value}))
    # Then that time is named
    assert _fields_of(failed) == [key]


def test_a_recipient_the_directory_does_not_know_is_refused() -> None:
    # Given a message for "nobody", whom the directory does not know
    failed = _refused(_fields(for_user="nobody"), NOBODY)
    # Then whom it is for is named, quoting the name
    assert _fields_of(failed) == ["for_user"]
    assert "'nobody'" in failed.errors[0].message


def test_a_team_the_directory_does_not_know_is_refused() -> None:
    # Given a message for a team that does not exist
    failed = _refused(_fields(for_user=None, for_team="Nowhere"), NOBODY)
    # Then the team is named
    assert _fields_of(failed) == ["for_team"]


# --- the steps of a message ------------------------------------------------------------------


def test_the_recipient_acknowledges_a_new_message() -> None:
    # Given a new message for Anne
    record = _taken()
    original = copy.deepcopy(record)
    # When Anne acknowledges it an hour later
    after = apply_message_op(record, "acknowledge", {}, ANNE_AT_DESK, now=T0 + HOUR)
    # Then it is acknowledged, by her, then
    assert after["state"] == "acknowledged"
    assert after["history"][-1] == {
        "at": _iso(T0 + HOUR),
        "by": "Anne Larsen",
        "what": "acknowledged",
    }
    # And the record it came from is untouched
    assert record == original


def test_a_supervisor_may_acknowledge_a_message_for_someone_else() -> None:
    # Given a new message for Anne
    # When Per, a supervisor, acknowledges it
    after = apply_message_op(_taken(), "acknowledge", {}, PER, now=T0 + HOUR)
    # Then it is acknowledged by Per
    assert after["state"] == "acknowledged"
    assert after["history"][-1]["by"] == "Per Olsen"


@pytest.mark.parametrize("op", ["acknowledge", "called_back", "hand_on"])
def test_a_colleague_may_not_act_on_a_message_for_someone_else(op: str) -> None:
    # Given a new message for Anne
    # When Ola, who is not a supervisor, tries to act on it
    with pytest.raises(ValidationFailed) as failed:
        apply_message_op(
            _taken(),
            op,
            {"outcome": "Called", "to_user": "ola"},
            OLA_AT_DESK,
            now=T0 + HOUR,
            recipient=OLA,
        )
    # Then he is refused, told whom it is for
    assert _fields_of(failed.value) == ["for_user"]
    assert "Anne Larsen" in failed.value.errors[0].message


def test_acknowledging_again_changes_nothing() -> None:
    # Given a message Anne has acknowledged
    once = apply_message_op(_taken(), "acknowledge", {}, ANNE_AT_DESK, now=T0 + HOUR)
    # When she acknowledges it again
    twice = apply_message_op(once, "acknowledge", {}, ANNE_AT_DESK, now=T0 + 2 * HOUR)
    # Then nothing changes
    assert twice == once


@pytest.mark.parametrize("outcome", [None, "", "   \n "])
def test_a_call_back_needs_its_outcome(outcome: str | None) -> None:
    # Given a message Anne has acknowledged
    record = apply_message_op(_taken(), "acknowledge", {}, ANNE_AT_DESK, now=T0 + HOUR)
    # When she marks it called back without saying what came of it
    fields = {} if outcome is None else {"outcome": outcome}
    with pytest.raises(ValidationFailed) as failed:
        apply_message_op(record, "called_back", fields, ANNE_AT_DESK, now=T0 + 17 * HOUR)
    # Then the outcome is asked for
    assert _fields_of(failed.value) == ["outcome"]


def test_a_call_back_with_its_outcome_closes_the_message() -> None:
    # Given a message Anne has acknowledged
    record = apply_message_op(_taken(), "acknowledge", {}, ANNE_AT_DESK, now=T0 + HOUR)
    # When she calls back within the window and says what came of it
    at = T0 + 16 * HOUR + 30 * MINUTE
    after = apply_message_op(
        record, "called_back", {"outcome": "  Printers reset; fixed.  "}, ANNE_AT_DESK, now=at
    )
    # Then it is called back, with the outcome and the time, also in its history
    assert after["state"] == "called_back"
    assert after["outcome"] == "Printers reset; fixed."
    assert after["called_back_at"] == _iso(at)
    assert after["history"][-1] == {
        "at": _iso(at),
        "by": "Anne Larsen",
        "what": "called back",
        "outcome": "Printers reset; fixed.",
    }


def test_handing_a_message_on_makes_it_new_for_the_other_colleague() -> None:
    # Given a message Anne has acknowledged
    record = apply_message_op(_taken(), "acknowledge", {}, ANNE_AT_DESK, now=T0 + HOUR)
    # When she hands it on to Ola with a note
    after = apply_message_op(
        record,
        "hand_on",
        {"to_user": "ola", "note": "Ola is on site in Beijing tomorrow."},
        ANNE_AT_DESK,
        now=T0 + 2 * HOUR,
        recipient=OLA,
    )
    # Then it is new again, for Ola
    assert after["state"] == "new"
    assert after["for_user"] == "ola"
    assert after["for_user_id"] == "u-ola"
    assert after["for_name"] == "Ola Hansen"
    # And its history says from whom to whom, by whom and why
    assert after["history"][-1] == {
        "at": _iso(T0 + 2 * HOUR),
        "by": "Anne Larsen",
        "what": "handed on",
        "from": "Anne Larsen",
        "to": "Ola Hansen",
        "note": "Ola is on site in Beijing tomorrow.",
    }
    # And it is now Ola's to act on, no longer Anne's
    assert is_recipient(after, OLA_AT_DESK)
    assert not is_recipient(after, ANNE_AT_DESK)
    with pytest.raises(ValidationFailed):
        apply_message_op(after, "acknowledge", {}, ANNE_AT_DESK, now=T0 + 3 * HOUR)
    acknowledged = apply_message_op(after, "acknowledge", {}, OLA_AT_DESK, now=T0 + 3 * HOUR)
    assert acknowledged["state"] == "acknowledged"


def test_a_message_can_be_handed_on_to_a_team() -> None:
    # Given a new message for Anne
    # When she hands it on to the Field team
    after = apply_message_op(
        _taken(),
        "hand_on",
        {"to_team": "Field"},
        ANNE_AT_DESK,
        now=T0 + HOUR,
        recipient=Recipient(team="Field"),
    )
    # Then it is for the team and its members
    assert (after["for_user"], after["for_user_id"], after["for_team"]) == ("", None, "Field")
    assert is_recipient(after, OLA_AT_DESK)


def test_handing_a_message_on_to_whom_it_is_for_is_refused() -> None:
    # Given a message for Anne
    # When a supervisor hands it on to Anne
    with pytest.raises(ValidationFailed) as failed:
        apply_message_op(
            _taken(), "hand_on", {"to_user": "anne"}, PER, now=T0 + HOUR, recipient=ANNE
        )
    # Then it is refused: it is already for her
    assert _fields_of(failed.value) == ["to_user"]
    assert "already" in failed.value.errors[0].message


@pytest.mark.parametrize(
    ("fields", "recipient", "field"),
    [
        ({}, None, "to_user"),
        ({"to_user": "nobody"}, NOBODY, "to_user"),
        ({"to_team": "Nowhere"}, NOBODY, "to_team"),
    ],
)
def test_handing_on_to_nobody_is_refused(
    fields: dict[str, str], recipient: Recipient | None, field: str
) -> None:
    # Given a message for Anne
    # When she hands it on to no one, or to someone the directory does not know
    with pytest.raises(ValidationFailed) as failed:
        apply_message_op(
            _taken(), "hand_on", fields, ANNE_AT_DESK, now=T0 + HOUR, recipient=recipient
        )
    # Then the field naming whom is refused
    assert _fields_of(failed.value) == [field]


def test_a_message_called_back_cannot_be_handed_on() -> None:
    # Given a message Anne has called back
    record = apply_message_op(
        _taken(), "called_back", {"outcome": "Fixed."}, ANNE_AT_DESK, now=T0 + 17 * HOUR
    )
    # When she tries to hand it on
    with pytest.raises(ValidationFailed) as failed:
        apply_message_op(
            record, "hand_on", {"to_user": "ola"}, ANNE_AT_DESK, now=T0 + 18 * HOUR, recipient=OLA
        )
    # Then the state is named
    assert _fields_of(failed.value) == ["state"]


def test_an_unknown_step_is_refused() -> None:
    # Given a message for Anne
    # When a step that does not exist is asked for (taking is not a step on a message)
    for op in ("delete", "create"):
        with pytest.raises(ValidationFailed) as failed:
            apply_message_op(_taken(), op, {}, ANNE_AT_DESK, now=T0 + HOUR)
        # Then the step is named, with the choices
        assert _fields_of(failed.value) == ["op"]
        assert "acknowledge, called_back, hand_on" in failed.value.errors[0].message


@pytest.mark.parametrize(
    ("op", "fields"),
    [
        ("acknowledge", {}),
        ("called_back", {"outcome": "Fixed."}),
        ("hand_on", {"to_user": "ola", "note": "Yours."}),
    ],
)
def test_the_same_step_applied_twice_changes_nothing_the_second_time(
    op: str, fields: dict[str, str]
) -> None:
    # Given a step Anne took on her message, with a step id
    step = {**fields, "step_id": "s-1"}
    once = apply_message_op(_taken(), op, step, ANNE_AT_DESK, now=T0 + HOUR, recipient=OLA)
    assert once["history"][-1]["step_id"] == "s-1"
    # When the same step arrives again later (a retry after a lost answer)
    twice = apply_message_op(once, op, step, ANNE_AT_DESK, now=T0 + 2 * HOUR, recipient=OLA)
    # Then nothing changes, even where the step would now be refused (it is Ola's now)
    assert twice == once
    assert len(twice["history"]) == 2


def test_a_step_keeps_the_time_the_desk_took_it() -> None:
    # Given a call back made on a desk offline at 02:30 UTC, synced at 09:00
    at = "2026-11-24T10:30:00+08:00"
    after = apply_message_op(
        _taken(), "called_back", {"outcome": "Fixed.", "at": at}, ANNE_AT_DESK, now=T0 + DAY
    )
    # Then it was called back at 02:30 UTC
    assert after["called_back_at"] == "2026-11-24T02:30:00+00:00"


# --- the inbox and escalation ----------------------------------------------------------------


def _message(
    message_id: str,
    urgency: str,
    before: dt.datetime,
    *,
    state: str = "new",
    called_back_at: dt.datetime | None = None,
    recipient: Recipient = ANNE,
) -> dict[str, Any]:
    """A message as kept, with its window closing at ``before``."""
    fields = _fields(for_user=None, for_team="Support") if recipient is SUPPORT else _fields()
    return {
        **new_message(fields, KARI, recipient, message_id=message_id, now=T0),
        "id": message_id,
        "urgency": urgency,
        "callback_after": _iso(before - HOUR),
        "callback_before": _iso(before),
        "state": state,
        "called_back_at": _iso(called_back_at) if called_back_at else None,
    }


def test_a_message_is_overdue_once_its_window_has_closed_without_a_call() -> None:
    # Given a message whose window closes at T0 + 1 day
    record = _message("m-1", "normal", T0 + DAY)
    # Then it is not overdue until the window has closed
    assert not is_overdue(record, T0)
    assert not is_overdue(record, T0 + DAY)
    assert is_overdue(record, T0 + DAY + MINUTE)
    # And never once it has been called back
    assert not is_overdue({**record, "state": "called_back"}, T0 + 2 * DAY)
    # And an acknowledgement does not stop it going overdue
    assert is_overdue({**record, "state": "acknowledged"}, T0 + 2 * DAY)


INBOX = [
    _message("low-overdue", "low", T0 + DAY),
    _message("urgent-overdue", "urgent", T0 + DAY + 6 * HOUR),
    _message("normal-overdue-ack", "normal", T0 + DAY + HOUR, state="acknowledged"),
    _message("normal-soon", "normal", T0 + 2 * DAY + HOUR),
    _message("urgent-later", "urgent", T0 + 3 * DAY),
    _message("urgent-soon", "urgent", T0 + 2 * DAY + 2 * HOUR),
    _message("high", "high", T0 + 4 * DAY),
    _message("low-soon", "low", T0 + 2 * DAY + HOUR),
    _message("done-early", "urgent", T0 + DAY, state="called_back", called_back_at=T0 + 20 * HOUR),
    _message(
        "done-late", "low", T0 + 3 * DAY, state="called_back", called_back_at=T0 + DAY + 12 * HOUR
    ),
]
INBOX_ORDER = [
    "urgent-overdue",
    "normal-overdue-ack",
    "low-overdue",
    "urgent-soon",
    "urgent-later",
    "high",
    "normal-soon",
    "low-soon",
    "done-late",
    "done-early",
]


@settings(max_examples=50, database=None)
@given(records=st.permutations(INBOX))
def test_the_inbox_puts_overdue_first_then_urgency_then_callback_time_called_back_last(
    records: list[dict[str, Any]],
) -> None:
    # Given messages in any order, two days after T0
    # When the inbox is ordered
    ordered = inbox_order(records, T0 + 2 * DAY)
    # Then overdue messages come first, then by urgency and callback time; called back last,
    # the latest call first
    assert [r["id"] for r in ordered] == INBOX_ORDER


def test_unread_messages_are_the_new_ones_for_the_actor_or_their_team() -> None:
    # Given new and acknowledged messages for Anne, one for Ola and one for Anne's team
    records = [
        _message("a1", "normal", T0 + DAY),
        _message("a2", "high", T0 + DAY),
        _message("a3", "high", T0 + DAY, state="acknowledged"),
        _message("a4", "high", T0 + DAY, state="called_back", called_back_at=T0 + HOUR),
        _message("o1", "low", T0 + DAY, recipient=OLA),
        _message("t1", "low", T0 + DAY, recipient=SUPPORT),
    ]
    # Then Anne has three unread (two of hers, one of her team's), Ola one, Per none
    assert unread_count(records, ANNE_AT_DESK) == 3
    assert unread_count(records, OLA_AT_DESK) == 1
    assert unread_count(records, PER) == 0
    assert unread_count([], ANNE_AT_DESK) == 0


def _promise(promise_id: str, due: dt.datetime, done: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "id": promise_id,
        "text": f"new disk installed ({promise_id})",
        "due_at": _iso(due),
        "at": _iso(T0),
        "by": "Ola Hansen",
        "owner_id": "u-ola",
        "customer_id": "cust-1",
        "done_at": _iso(done) if done else None,
    }


def test_escalations_are_overdue_callbacks_and_promises_longest_overdue_first() -> None:
    # Given, two days after T0, overdue and pending callbacks and promises
    now = T0 + 2 * DAY
    messages = [
        _message("m-late", "low", T0 + DAY),  # 24 h late
        _message("m-later", "urgent", T0 + DAY + 12 * HOUR),  # 12 h late
        _message("m-ack", "normal", T0 + DAY + 20 * HOUR, state="acknowledged"),  # 4 h late
        _message("m-done", "urgent", T0 + DAY, state="called_back", called_back_at=T0 + 20 * HOUR),
        _message("m-future", "urgent", now + HOUR),
    ]
    contact = {
        "id": "c-1",
        "promises": [
            _promise("p-late", T0 + DAY + 6 * HOUR),  # 18 h late
            _promise("p-kept", T0 + DAY, done=T0 + 23 * HOUR),
            _promise("p-future", now + MINUTE),
        ],
    }
    promises = [*open_promises([contact]), {**_promise("p-kept-2", T0), "done_at": _iso(T0)}]
    # When the supervisors' list is made
    found = escalations(messages, promises, now)
    # Then it holds the overdue callbacks and open promises, the longest overdue first
    assert [(e.kind, e.id) for e in found] == [
        ("callback", "m-late"),
        ("promise", "p-late"),
        ("callback", "m-later"),
        ("callback", "m-ack"),
    ]
    assert [e.late_s for e in found] == [24 * 3600, 18 * 3600, 12 * 3600, 4 * 3600]
    # And each says who should have done what, and when
    assert found[0] == Escalation(
        kind="callback",
        id="m-late",
        owner="Anne Larsen",
        what="call back Wei Zhang, +86 10 6552 9988",
        due_at=T0 + DAY,
        late_s=24 * 3600,
        record_id="m-late",
    )
    assert found[1] == Escalation(
        kind="promise",
        id="p-late",
        owner="Ola Hansen",
        what="new disk installed (p-late)",
        due_at=T0 + DAY + 6 * HOUR,
        late_s=18 * 3600,
        record_id="c-1",
    )


def test_nothing_is_escalated_when_everything_is_on_time() -> None:
    # Given a message and a promise both due later
    # Then nothing is escalated, not even at the very moment they are due
    messages = [_message("m-1", "urgent", T0 + DAY)]
    promises = [{**_promise("p-1", T0 + DAY), "contact_id": "c-1"}]
    assert escalations(messages, promises, T0) == []
    assert escalations(messages, promises, T0 + DAY) == []
    assert escalations([], [], T0) == []


# --- reading the message back ----------------------------------------------------------------


def test_the_read_back_in_english_has_every_key_point_in_the_callers_time() -> None:
    # Given a message from a caller in Beijing who wants a call 09:00–11:00 their time
    record = _taken()
    # When it is read back in English
    text = read_back(record)
    # Then it names the caller, their organisation and number, the message and for whom
    assert "Wei Zhang" in text
    assert "Beijing Metro Ticketing" in text
    assert "+86 10 6552 9988" in text
    assert "“The ticket printers at Xizhimen print blank tickets”." in text
    assert "Anne Larsen" in text
    # And the window in the caller's own time, not the agent's (02:00–04:00 in Oslo)
    assert "on Tuesday 24 November between 09:00 and 11:00, your time" in text
    assert "02:00" not in text
    assert "01:00" not in text


def test_the_read_back_in_chinese_has_every_key_point_in_the_callers_time() -> None:
    # Given a message from 张伟 of 北京地铁票务中心, in Chinese
    record = _taken(
        first_name="伟",
        last_name="张",
        organisation="北京地铁票务中心",
        message="西直门站的售票机打印出空白车票。",
        language="zh_CN",
    )
    # When it is read back in the caller's language
    text = read_back(record)
    # Then the name is in Chinese order (family name first), with the organisation
    assert "北京地铁票务中心的张伟" in text
    assert "+86 10 6552 9988" in text
    assert "“西直门站的售票机打印出空白车票”。" in text
    assert "Anne Larsen" in text
    # And the window is in the caller's time, with the Chinese date and weekday
    assert "11月24日" in text
    assert "星期二" in text
    assert "09:00至11:00" in text
    assert "您当地时间" in text


def test_the_read_back_in_norwegian_has_every_key_point_in_the_callers_time() -> None:
    # Given a message from a caller in Beijing, to be read back in Norwegian
    record = _taken(language="nb")
    # When it is read back
    text = read_back(record)
    # Then it has the caller, number, message, recipient and window in the caller's time
    assert "Wei Zhang" in text
    assert "Beijing Metro Ticketing" in text
    assert "+86 10 6552 9988" in text
    assert "«The ticket printers at Xizhimen print blank tickets»." in text
    assert "Anne Larsen" in text
    assert "tirsdag 24. november" in text
    assert "mellom 09:00 og 11:00, din tid" in text


@pytest.mark.parametrize(
    ("language", "marker"),
    [
        ("en", "Let me read that back"),
        ("zh", "我跟您核对一下"),
        ("nb", "Da leser jeg opp"),
        ("fr", "Let me read that back"),
    ],
)
def test_the_read_back_language_can_be_chosen_and_falls_back_to_english(
    language: str, marker: str
) -> None:
    # Given a message taken in English
    record = _taken()
    # When it is read back in another language (or one the desk does not speak)
    # Then it is in that language (or in English)
    assert read_back(record, language).startswith(marker)


def test_a_read_back_window_over_midnight_names_both_days_in_the_callers_zone() -> None:
    # Given a caller in Auckland who wants a call between 22:00 on Tuesday and 01:00 on
    # Wednesday their time, taken by an agent in Oslo (Tuesday morning there)
    record = _taken(
        caller_timezone="Pacific/Auckland",
        callback_after="2026-11-24T22:00:00+13:00",
        callback_before="2026-11-25T01:00:00+13:00",
    )
    # When it is read back in English and in Norwegian
    # Then both of the caller's days are named, with their own clock
    assert (
        "between Tuesday 24 November 22:00 and Wednesday 25 November 01:00, your time"
        in read_back(record, "en")
    )
    assert "mellom tirsdag 24. november 22:00 og onsdag 25. november 01:00" in read_back(
        record, "nb"
    )
    assert "11月24日(星期二)22:00至11月25日(星期三)01:00" in read_back(record, "zh_CN")


# --- the caller's name from a customer sheet -------------------------------------------------


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Bjørn Ødegård", "Bjørn", "Ødegård"),
        ("  Anne   Marie Larsen ", "Anne Marie", "Larsen"),
        ("Kari", "Kari", ""),
        ("王伟", "伟", "王"),
        ("王 伟", "伟", "王"),
        ("", "", ""),
    ],
)
def test_a_sheets_name_is_split_into_first_and_last(full: str, first: str, last: str) -> None:
    # Given a customer's name as the sheet has it, Western or Chinese (family name first)
    # When it is split for a message
    # Then the first and last names are where the message wants them
    assert split_name(full) == (first, last)


def test_a_message_taken_offline_arrives_after_its_window_overdue_not_refused() -> None:
    # Given a message taken at T0 for a window that closed while the desk was offline
    synced = dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC)  # 13:00 in Shanghai
    taken = _taken(now=synced, taken_at=_iso(T0))
    # Then the server keeps it, and it is escalated at once
    assert taken["taken_at"] == _iso(T0)
    assert is_overdue(taken, synced)
    # But a window that had already closed when it was taken is refused
    late = _refused(_fields(taken_at=_iso(synced)), now=synced)
    assert _fields_of(late) == ["callback_before"]


def test_when_a_message_was_taken_is_bounded_by_the_clock() -> None:
    ahead = _refused(_fields(taken_at=_iso(T0 + HOUR)))
    assert _fields_of(ahead) == ["taken_at"] and "future" in ahead.errors[0].message
    stale = _refused(_fields(taken_at=_iso(T0 - 40 * DAY)))
    assert "taken_at" in _fields_of(stale)


def test_a_window_in_a_zone_whose_abbreviation_is_ambiguous_shows_the_offset() -> None:
    after = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    # CST is China and US Central alike: the offset says which
    assert window_text(after, after + 2 * HOUR, "Asia/Shanghai") == "Tue 24 Nov 09:00–11:00 UTC+8"
    assert window_text(after, after + 2 * HOUR, "Asia/Kolkata").endswith("UTC+05:30")
