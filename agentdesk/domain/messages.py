"""Messages taken for a colleague, and the callbacks they promise.

A complete message (DOMAIN §5) names the caller (first and last name), for whom it is, the
caller's organisation, the full phone number with area code, the message, its urgency, the
best time to call back in the caller's time zone, the date and time of the call, and who took
it. The key points are read back to the caller in their language. A message moves from new to
acknowledged to called back (with the outcome), or is handed on to someone else; each step is
kept in its history. A callback whose window has closed without a call is overdue, and is
escalated: red in its owner's inbox and on the supervisors' list.

Every rule takes the time as an argument, and the desk and the server share them, as they do
for contacts.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import phonenumbers
from phonenumbers import timezone as number_zones

from agentdesk.domain.contacts import Actor, parse_time, required_time, text_field
from agentdesk.domain.customers import format_phone, normalise_phone, normalise_timezone
from agentdesk.domain.errors import FieldError, FieldValueError, ValidationFailed

URGENCIES: Final[dict[str, str]] = {
    "urgent": "Urgent",
    "high": "High",
    "normal": "Normal",
    "low": "Low",
}
STATES: Final[dict[str, str]] = {
    "new": "New",
    "acknowledged": "Acknowledged",
    "called_back": "Called back",
}
OPS: Final[tuple[str, ...]] = ("create", "acknowledge", "called_back", "hand_on")
MAX_NAME: Final = 100
MAX_ORGANISATION: Final = 200
MAX_MESSAGE: Final = 4000
MAX_OUTCOME: Final = 1000
#: The latest a callback window may close, counted from when the message is taken.
MAX_WINDOW_AHEAD: Final = dt.timedelta(days=90)
#: How far a desk's clock may run ahead, and how long a message may wait offline.
MAX_CLOCK_SKEW: Final = dt.timedelta(minutes=10)
MAX_OFFLINE: Final = dt.timedelta(days=30)


@dataclass(frozen=True)
class Recipient:
    """Whom a message is for, as the directory names them."""

    username: str = ""
    full_name: str = ""
    user_id: str = ""
    team: str = ""

    @property
    def label(self) -> str:
        return self.full_name or self.username or self.team


# --- the caller's number and time zone ------------------------------------------------------


def check_phone(value: object, default_region: str | None = None) -> tuple[str, str]:
    """The number as E.164 and as it is shown; raises FieldValueError saying what is missing."""
    e164 = normalise_phone(value, default_region)
    return e164, format_phone(e164)


def zones_for_number(e164: str) -> list[str]:
    """The IANA zones a number's country and area code belong to, most likely first.

    Countries that span several zones (the US, Canada, Australia, Russia, Brazil…) are told
    apart by the area code where the numbering plan allows it.
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    found = [
        zone
        for zone in number_zones.time_zones_for_number(parsed)
        if zone != number_zones.UNKNOWN_TIMEZONE
    ]
    known = [zone for zone in found if _is_zone(zone)]
    return known


#: Moments at which the zones a number may be in are compared: the middle of each month.
_CLOCK_SAMPLES: Final = tuple(
    dt.datetime(2026, month, 15, 12, tzinfo=dt.UTC) for month in range(1, 13)
)


def propose_timezone(e164: str) -> str | None:
    """The caller's time zone as the number suggests it, or None when it cannot tell.

    It cannot tell when the zones the number may be in keep different clocks (a toll-free or
    Caribbean mobile number under +1, a Spanish mobile: Madrid or the Canaries): a guess
    there would put the callback at the wrong hour.
    """
    zones = zones_for_number(e164)
    if not zones:
        return None
    first = zone(zones[0])
    for other in zones[1:]:
        tz = zone(other)
        if any(
            m.astimezone(first).utcoffset() != m.astimezone(tz).utcoffset() for m in _CLOCK_SAMPLES
        ):
            return None
    return zones[0]


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str) -> dt.tzinfo:
    return dt.UTC if name in ("UTC", "Etc/UTC") else zoneinfo.ZoneInfo(name)


def caller_time(local: dt.datetime, zone_name: str, field: str) -> dt.datetime:
    """A wall-clock time as the caller reads it in ``zone_name``, as an aware UTC time.

    A time the clocks skip (the spring change) does not exist there and is refused; a time
    that happens twice (the autumn change) means the first of the two.
    """
    if local.tzinfo is not None:
        local = local.replace(tzinfo=None)
    tz = zone(zone_name)
    placed = local.replace(tzinfo=tz, fold=0)
    back = placed.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if back != local:
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    f"{local:%d %b %Y %H:%M} does not exist in {zone_name}: the clocks change "
                    "then; choose a time outside the change",
                )
            ]
        )
    return placed.astimezone(dt.UTC)


def wall_time(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """``moment`` as the clock on the wall shows it in ``zone_name``."""
    return moment.astimezone(zone(zone_name))


def zone_abbreviation(moment: dt.datetime, zone_name: str) -> str:
    """Short zone label at that moment: CET, CEST, EST… or the offset when there is none."""
    local = wall_time(moment, zone_name)
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    return _offset_label(local)


def _offset_label(local: dt.datetime) -> str:
    offset = local.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}" if rest else f"UTC{sign}{hours}"


#: Abbreviations several zones share (China and US Central are both CST; India, Ireland and
#: Israel all say IST): a window is labelled with the offset instead.
AMBIGUOUS_ABBREVIATIONS: Final = frozenset({"CST", "CDT", "IST", "AST", "BST", "ADT"})


def window_text(after: dt.datetime, before: dt.datetime, zone_name: str) -> str:
    """A callback window in one zone: "Tue 24 Nov 10:00–12:00 CET" (both days if it spans)."""
    start, end = wall_time(after, zone_name), wall_time(before, zone_name)
    label = zone_abbreviation(after, zone_name)
    if label in AMBIGUOUS_ABBREVIATIONS:
        label = _offset_label(start)
    if start.date() == end.date():
        return f"{start:%a %d %b %H:%M}–{end:%H:%M} {label}"
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M} {label}"


# --- the message record --------------------------------------------------------------------


def _required_text(
    fields: Mapping[str, Any], key: str, errors: list[FieldError], max_len: int, hint: str
) -> str:
    before = len(errors)
    text = text_field(fields, key, errors, max_len=max_len, multiline=key == "message")
    if len(errors) == before and not text:
        errors.append(FieldError(key, f"is empty: {hint}"))
    return text


def _time_field(
    fields: Mapping[str, Any], key: str, errors: list[FieldError]
) -> dt.datetime | None:
    return required_time(fields, key, errors, "give the best time to call back, with the date")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def new_message(
    fields: Mapping[str, Any],
    actor: Actor,
    recipient: Recipient,
    *,
    message_id: str,
    now: dt.datetime,
    default_region: str | None = None,
) -> dict[str, Any]:
    """A message as taken, checked field by field; raises ValidationFailed naming each field.

    ``recipient`` is whom ``for_user`` (or ``for_team``) named, as the directory knows them;
    an empty recipient means the name matched nobody.
    """
    errors: list[FieldError] = []
    first = _required_text(
        fields, "first_name", errors, MAX_NAME, "ask for the caller's first name"
    )
    last = _required_text(fields, "last_name", errors, MAX_NAME, "ask for the caller's last name")
    organisation = _required_text(
        fields,
        "organisation",
        errors,
        MAX_ORGANISATION,
        "ask which organisation they call from (write “private” for a private caller)",
    )
    text = _required_text(fields, "message", errors, MAX_MESSAGE, "write what the caller wants")
    for_user = text_field(fields, "for_user", errors, max_len=MAX_NAME)
    for_team = text_field(fields, "for_team", errors, max_len=MAX_NAME)
    if not for_user and not for_team:
        errors.append(FieldError("for_user", "is empty: choose the colleague or team it is for"))
    elif not recipient.label:
        key, name = ("for_user", for_user) if for_user else ("for_team", for_team)
        errors.append(FieldError(key, f"no colleague or team named {name!r} in the directory"))
    phone = display = ""
    try:
        phone, display = check_phone(fields.get("phone"), default_region)
    except FieldValueError as exc:
        errors.append(FieldError("phone", str(exc)))
    urgency = fields.get("urgency") or "normal"
    if not isinstance(urgency, str) or urgency not in URGENCIES:
        errors.append(FieldError("urgency", f"choose one of: {', '.join(URGENCIES)}"))
    zone_name = ""
    try:
        zone_name = normalise_timezone(fields.get("caller_timezone"))
    except FieldValueError as exc:
        errors.append(FieldError("caller_timezone", str(exc)))
    taken_at = now
    if fields.get("taken_at"):
        try:
            taken_at = parse_time(fields["taken_at"], "taken_at")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
    if taken_at > now + MAX_CLOCK_SKEW:
        errors.append(FieldError("taken_at", "is in the future: check the desk's clock"))
    elif now - taken_at > MAX_OFFLINE:
        errors.append(FieldError("taken_at", "is more than 30 days ago"))
    # The window is judged against when the message was taken, so one taken offline and
    # delivered after its window closed still arrives (overdue, and escalated at once).
    reference = min(taken_at, now)
    after = _time_field(fields, "callback_after", errors)
    before = _time_field(fields, "callback_before", errors)
    if after is not None and before is not None:
        if before <= after:
            errors.append(
                FieldError("callback_before", "must be later than the start of the window")
            )
        elif before <= reference:
            errors.append(
                FieldError("callback_before", "has passed: the window must end in the future")
            )
        elif before - reference > MAX_WINDOW_AHEAD:
            errors.append(FieldError("callback_before", "is more than 90 days ahead"))
    language = fields.get("language") or "en"
    language = "zh_CN" if language == "zh" else language
    if not isinstance(language, str) or language not in READ_BACK:
        errors.append(FieldError("language", f"choose one of: {', '.join(READ_BACK)}"))
    links: dict[str, str | None] = {}
    for key in ("customer_id", "contact_id"):
        value = text_field(fields, key, errors, max_len=64)
        links[key] = value or None
    if errors:
        raise ValidationFailed(errors)
    assert after is not None and before is not None
    return {
        "id": message_id,
        "version": 0,
        "first_name": first,
        "last_name": last,
        "organisation": organisation,
        "phone": phone,
        "phone_display": display,
        "message": text,
        "urgency": urgency,
        "callback_after": _iso(after),
        "callback_before": _iso(before),
        "caller_timezone": zone_name,
        "language": language,
        "for_user": recipient.username,
        "for_user_id": recipient.user_id or None,
        "for_name": recipient.label,
        "for_team": recipient.team if not recipient.username else "",
        "taken_at": _iso(taken_at),
        "taken_by": actor.username,
        "taken_by_id": actor.user_id,
        "taken_by_name": actor.label,
        "customer_id": links["customer_id"],
        "contact_id": links["contact_id"],
        "state": "new",
        "outcome": None,
        "called_back_at": None,
        "history": [
            {
                "at": _iso(now),
                "by": actor.label,
                "what": "taken",
                "to": recipient.label,
            }
        ],
    }


def is_recipient(record: Mapping[str, Any], actor: Actor) -> bool:
    """Whether the message is now for ``actor`` (by name, or through their team)."""
    if record.get("for_user_id"):
        return bool(record["for_user_id"] == actor.user_id)
    if record.get("for_user"):
        return bool(record["for_user"] == actor.username)
    return bool(record.get("for_team")) and record.get("for_team") == actor.department


def apply_message_op(
    record: Mapping[str, Any],
    op: str,
    fields: Mapping[str, Any],
    actor: Actor,
    *,
    now: dt.datetime,
    recipient: Recipient | None = None,
) -> dict[str, Any]:
    """One step on a message; the same step twice changes nothing the second time.

    ``recipient`` is whom a hand-on names, as the directory knows them.
    """
    out = dict(record)
    history = list(out.get("history") or [])
    step_id = str(fields.get("step_id") or "")
    if step_id and any(h.get("step_id") == step_id for h in history):
        return out
    if not (is_recipient(out, actor) or actor.supervisor):
        raise ValidationFailed(
            [FieldError("for_user", f"this message is for {out.get('for_name') or 'someone else'}")]
        )
    at = now
    if fields.get("at"):
        at = parse_time(fields["at"], "at")
    entry: dict[str, Any] = {"at": _iso(at), "by": actor.label}
    if step_id:
        entry["step_id"] = step_id
    if op == "acknowledge":
        if out["state"] != "new":
            return out
        out["state"] = "acknowledged"
        entry["what"] = "acknowledged"
    elif op == "called_back":
        if out["state"] == "called_back":
            return out
        errors: list[FieldError] = []
        outcome = text_field(fields, "outcome", errors, max_len=MAX_OUTCOME, multiline=True)
        if not errors and not outcome:
            errors.append(FieldError("outcome", "is empty: say what came of the call"))
        if errors:
            raise ValidationFailed(errors)
        out.update(state="called_back", outcome=outcome, called_back_at=_iso(at))
        entry.update(what="called back", outcome=outcome)
    elif op == "hand_on":
        if out["state"] == "called_back":
            raise ValidationFailed([FieldError("state", "this message has been called back")])
        errors = []
        note = text_field(fields, "note", errors, max_len=MAX_OUTCOME, multiline=True)
        to_user = text_field(fields, "to_user", errors, max_len=MAX_NAME)
        to_team = text_field(fields, "to_team", errors, max_len=MAX_NAME)
        found = recipient or Recipient()
        if not to_user and not to_team:
            errors.append(FieldError("to_user", "is empty: choose whom to hand it on to"))
        elif not found.label:
            key, name = ("to_user", to_user) if to_user else ("to_team", to_team)
            errors.append(FieldError(key, f"no colleague or team named {name!r} in the directory"))
        elif found.username and found.username == out.get("for_user"):
            errors.append(FieldError("to_user", "the message is already for them"))
        if errors:
            raise ValidationFailed(errors)
        entry.update(what="handed on", to=found.label, note=note)
        entry["from"] = out.get("for_name")
        out.update(
            state="new",
            for_user=found.username,
            for_user_id=found.user_id or None,
            for_name=found.label,
            for_team=found.team if not found.username else "",
        )
    else:
        raise ValidationFailed([FieldError("op", f"choose one of: {', '.join(OPS[1:])}")])
    out["history"] = [*history, entry]
    return out


# --- the inbox and escalation --------------------------------------------------------------


def is_open(record: Mapping[str, Any]) -> bool:
    return record.get("state") != "called_back"


def is_overdue(record: Mapping[str, Any], now: dt.datetime) -> bool:
    """An open message whose callback window has closed: escalated."""
    if not is_open(record):
        return False
    return dt.datetime.fromisoformat(str(record["callback_before"])) < now


def callback_due(record: Mapping[str, Any], now: dt.datetime) -> bool:
    """The callback window is open now (time to call)."""
    if not is_open(record):
        return False
    after = dt.datetime.fromisoformat(str(record["callback_after"]))
    before = dt.datetime.fromisoformat(str(record["callback_before"]))
    return after <= now <= before


_URGENCY_RANK: Final = {name: rank for rank, name in enumerate(URGENCIES)}


def inbox_order(records: Iterable[Mapping[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """Open messages first (overdue at the top), by urgency then callback time; closed last,
    newest first."""
    items = [dict(r) for r in records]
    open_ = sorted(
        (r for r in items if is_open(r)),
        key=lambda r: (
            0 if is_overdue(r, now) else 1,
            _URGENCY_RANK.get(str(r.get("urgency")), 9),
            str(r.get("callback_before")),
            str(r.get("id")),
        ),
    )
    closed = sorted(
        (r for r in items if not is_open(r)),
        key=lambda r: str(r.get("called_back_at") or ""),
        reverse=True,
    )
    return open_ + closed


def unread_count(records: Iterable[Mapping[str, Any]], actor: Actor) -> int:
    return sum(1 for r in records if r.get("state") == "new" and is_recipient(r, actor))


@dataclass(frozen=True)
class Escalation:
    """A callback or a promise whose time has passed without being done."""

    kind: str  # "callback" or "promise"
    id: str
    owner: str  # who should have done it
    what: str
    due_at: dt.datetime
    late_s: float
    record_id: str


def escalations(
    messages: Iterable[Mapping[str, Any]],
    promises: Iterable[Mapping[str, Any]],
    now: dt.datetime,
) -> list[Escalation]:
    """Overdue callbacks and promises, the longest overdue first.

    ``promises`` come from :func:`agentdesk.domain.contacts.open_promises`.
    """
    found: list[Escalation] = []
    for record in messages:
        if is_overdue(record, now):
            due = dt.datetime.fromisoformat(str(record["callback_before"]))
            found.append(
                Escalation(
                    kind="callback",
                    id=str(record["id"]),
                    owner=str(record.get("for_name") or ""),
                    what=f"call back {record['first_name']} {record['last_name']}, "
                    f"{record.get('phone_display') or record.get('phone')}",
                    due_at=due,
                    late_s=(now - due).total_seconds(),
                    record_id=str(record["id"]),
                )
            )
    for promise in promises:
        due = dt.datetime.fromisoformat(str(promise["due_at"]))
        if promise.get("done_at") or due >= now:
            continue
        found.append(
            Escalation(
                kind="promise",
                id=str(promise["id"]),
                owner=str(promise.get("by") or ""),
                what=str(promise.get("text") or ""),
                due_at=due,
                late_s=(now - due).total_seconds(),
                record_id=str(promise.get("contact_id") or ""),
            )
        )
    return sorted(found, key=lambda e: (-e.late_s, e.id))


# --- reading the message back to the caller ------------------------------------------------

_WEEKDAYS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "zh_CN": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
}
_MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nb": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
}


def _day(moment: dt.datetime, language: str) -> str:
    weekday = _WEEKDAYS[language][moment.weekday()]
    if language == "zh_CN":
        return f"{moment.month}月{moment.day}日({weekday})"
    month = _MONTHS[language][moment.month - 1]
    if language == "nb":
        return f"{weekday} {moment.day}. {month}"
    return f"{weekday} {moment.day} {month}"


def _span(after: dt.datetime, before: dt.datetime, language: str) -> str:
    start, end = f"{after:%H:%M}", f"{before:%H:%M}"
    same_day = after.date() == before.date()
    if language == "zh_CN":
        if same_day:
            return f"您当地时间{_day(after, language)}{start}至{end}之间"
        return f"您当地时间{_day(after, language)}{start}至{_day(before, language)}{end}之间"
    if language == "nb":
        if same_day:
            return f"{_day(after, language)} mellom {start} og {end}, din tid"
        return f"mellom {_day(after, language)} {start} og {_day(before, language)} {end}, din tid"
    if same_day:
        return f"on {_day(after, language)} between {start} and {end}, your time"
    return f"between {_day(after, language)} {start} and {_day(before, language)} {end}, your time"


def _read_back_en(r: Mapping[str, Any], span: str) -> str:
    return (
        f"Let me read that back to you. You are {r['first_name']} {r['last_name']} "
        f"of {r['organisation']}, on {r['phone_display']}. "
        f"Your message for {r['for_name']}: “{_quoted(r['message'])}”. "
        f"{r['for_name']} will call you back {span}. Is that all correct?"
    )


def _read_back_zh(r: Mapping[str, Any], span: str) -> str:
    return (
        f"我跟您核对一下:您是{r['organisation']}的{r['last_name']}{r['first_name']},"
        f"电话{r['phone_display']}。"
        f"给{r['for_name']}的留言:“{_quoted(r['message'])}”。"
        f"{r['for_name']}会在{span}给您回电。请问这些都对吗?"
    )


def _read_back_nb(r: Mapping[str, Any], span: str) -> str:
    return (
        f"Da leser jeg opp: Du er {r['first_name']} {r['last_name']} fra {r['organisation']}, "
        f"på telefon {r['phone_display']}. "
        f"Beskjeden til {r['for_name']}: «{_quoted(r['message'])}». "
        f"{r['for_name']} ringer deg tilbake {span}. Stemmer det?"
    )


READ_BACK: Final = {"en": _read_back_en, "zh_CN": _read_back_zh, "nb": _read_back_nb}


def _quoted(text: str) -> str:
    """The message as it goes between quotes, without a full stop of its own (the sentence
    around it has one)."""
    return text.strip().rstrip(".。")


def read_back(record: Mapping[str, Any], language: str | None = None) -> str:
    """The sentence to read to the caller, in their language, with the callback window in
    their own time. Works on a draft as well as on a taken message."""
    lang = language or str(record.get("language") or "en")
    if lang == "zh":
        lang = "zh_CN"
    compose = READ_BACK.get(lang, _read_back_en)
    if lang not in READ_BACK:
        lang = "en"
    zone_name = str(record["caller_timezone"])
    after = wall_time(dt.datetime.fromisoformat(str(record["callback_after"])), zone_name)
    before = wall_time(dt.datetime.fromisoformat(str(record["callback_before"])), zone_name)
    return compose(record, _span(after, before, lang))


def split_name(full: str) -> tuple[str, str]:
    """First and last name from a sheet's name.

    "Bjørn Ødegård" → ("Bjørn", "Ødegård"); a Chinese name written family name first and
    without spaces, "王伟" → ("伟", "王"); "王 伟" (spaced, family name first) likewise.
    """
    text = " ".join(full.split())
    if not text:
        return "", ""
    if all("\u4e00" <= c <= "\u9fff" or c == " " for c in text):
        if " " in text:
            family, given = text.split(" ", 1)
        else:
            family, given = text[:1], text[1:]
        return given.replace(" ", ""), family
    if " " not in text:
        return text, ""
    first, last = text.rsplit(" ", 1)
    return first, last
