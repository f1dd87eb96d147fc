"""On-site visits: scheduled from a contact, prepared, carried out step by step, and closed
with a signed service report.

The order on site follows the field engineers' practice (DOMAIN §10): arrive (on time, or call
ahead with a new time), introduce yourself with the standard phrase, have the customer
reproduce the fault, explain the cause, **get consent before opening the machine**, agree the
solution, and **before any disk operation get consent and the customer's signature**; advise
regular backups. The report holds the work done, the parts used, the time on site, the
customer's signature with their name, and a rating. A report is not closed without a
signature unless the engineer records why.

Every rule takes the time as an argument; the desk and the server share them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from agentdesk.domain.contacts import Actor, parse_time, required_time, text_field
from agentdesk.domain.errors import FieldError, ValidationFailed

STATES: Final[dict[str, str]] = {
    "scheduled": "Scheduled",
    "on_site": "On site",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
#: The steps on site, in order. Disk steps happen only when the work needs them.
STEPS: Final[dict[str, str]] = {
    "arrival": "Arrived",
    "introduction": "Introduced yourself and showed your ID",
    "reproduce": "The customer reproduced the fault",
    "explain": "Explained the cause in plain words",
    "consent_open": "Consent to open the machine",
    "solution": "Agreed the solution",
    "disk_consent": "Consent and signature before any disk operation",
    "disk_operation": "Disk operation done",
    "backup_advice": "Advised regular backups",
}
OPTIONAL_STEPS: Final = frozenset({"disk_consent", "disk_operation"})
CONSENT_STEPS: Final = frozenset({"consent_open", "disk_consent"})
CONSENT_WAYS: Final[tuple[str, ...]] = ("in person", "by phone")
INTRODUCTION: Final[dict[str, str]] = {
    "en": "Hello, I am {engineer}, the engineer from {organisation}, here to fix your fault.",
    "zh_CN": "您好,我是{organisation}的工程师{engineer},来为您排除故障。",
    "nb": "Hei, jeg er {engineer}, tekniker fra {organisation}, og er her for å rette feilen.",
}
OPS: Final[tuple[str, ...]] = (
    "create",
    "checklist",
    "running_late",
    "step",
    "report",
    "cancel",
)
MAX_TEXT: Final = 4000
MAX_LINE: Final = 200
MAX_ITEMS: Final = 50
MAX_SIGNATURE_BYTES: Final = 256 * 1024
MAX_ON_SITE_MIN: Final = 24 * 60
#: How far ahead of the server a laptop's clock may run.
MAX_CLOCK_SKEW: Final = dt.timedelta(minutes=10)
PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Engineer:
    """Whom a visit is for, as the directory names them."""

    username: str = ""
    full_name: str = ""
    user_id: str = ""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _time(fields: Mapping[str, Any], key: str, errors: list[FieldError]) -> dt.datetime | None:
    return required_time(fields, key, errors, "give the date and time")


def _items(
    value: Any, key: str, errors: list[FieldError], *, with_quantity: bool
) -> list[dict[str, Any]]:
    """A list of items ({"item", "qty"?, "packed"?}), each checked by its path."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError(key, "expected a list of items"))
        return []
    if len(value) > MAX_ITEMS:
        errors.append(FieldError(key, f"at most {MAX_ITEMS} items"))
        return []
    found = []
    for index, raw in enumerate(value):
        path = f"{key}[{index}]"
        if not isinstance(raw, Mapping):
            errors.append(FieldError(path, "expected an item with a name"))
            continue
        item_errors: list[FieldError] = []
        item = text_field(raw, "item", item_errors, max_len=MAX_LINE)
        if item_errors:  # named by the item's path, not a bare "item"
            errors.extend(FieldError(f"{path}.item", e.message) for e in item_errors)
            continue
        if not item:
            errors.append(FieldError(f"{path}.item", "is empty: name the part or tool"))
            continue
        entry: dict[str, Any] = {"item": item, "packed": bool(raw.get("packed"))}
        if with_quantity:
            qty = raw.get("qty", 1)
            if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 999:
                errors.append(FieldError(f"{path}.qty", "expected a whole number from 1 to 999"))
                continue
            entry["qty"] = qty
        found.append(entry)
    return found


def new_visit(
    fields: Mapping[str, Any],
    actor: Actor,
    engineer: Engineer,
    *,
    visit_id: str,
    now: dt.datetime,
    customer_name: str = "",
) -> dict[str, Any]:
    """A visit as scheduled; raises ValidationFailed naming each field at fault."""
    errors: list[FieldError] = []
    customer_id = text_field(fields, "customer_id", errors, max_len=64)
    if not customer_id and not any(e.field == "customer_id" for e in errors):
        errors.append(FieldError("customer_id", "is empty: choose the customer to visit"))
    device = text_field(fields, "device", errors, max_len=MAX_LINE)
    fault = text_field(fields, "fault", errors, max_len=MAX_TEXT, multiline=True)
    if not fault and not any(e.field == "fault" for e in errors):
        errors.append(FieldError("fault", "is empty: describe the fault to fix"))
    if not str(fields.get("engineer") or "").strip():
        errors.append(FieldError("engineer", "is empty: choose the engineer"))
    elif not engineer.username:
        errors.append(FieldError("engineer", f"no field engineer named {fields.get('engineer')!r}"))
    start = _time(fields, "window_start", errors)
    end = _time(fields, "window_end", errors)
    if start is not None and end is not None:
        if end <= start:
            errors.append(FieldError("window_end", "must be later than the start"))
        elif end <= now - dt.timedelta(days=1):
            errors.append(FieldError("window_end", "has passed"))
    contact_id = text_field(fields, "contact_id", errors, max_len=64)
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and end is not None
    return {
        "id": visit_id,
        "version": 0,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "contact_id": contact_id or None,
        "device": device,
        "fault": fault,
        "window_start": _iso(start),
        "window_end": _iso(end),
        "engineer": engineer.username,
        "engineer_id": engineer.user_id or None,
        "engineer_name": engineer.full_name or engineer.username,
        "scheduled_by": actor.label,
        "scheduled_by_id": actor.user_id,
        "scheduled_at": _iso(now),
        "state": "scheduled",
        "eta": None,
        "late": [],
        "checklist": {"parts": [], "tools": [], "form_ready": False},
        "steps": {},
        "report": None,
    }


def is_engineer(record: Mapping[str, Any], actor: Actor) -> bool:
    if record.get("engineer_id"):
        return bool(record["engineer_id"] == actor.user_id)
    return bool(record.get("engineer") == actor.username)


def missing_before(record: Mapping[str, Any], step: str) -> list[str]:
    """Steps that must be done before ``step`` and are not (in order)."""
    done = record.get("steps") or {}
    order = list(STEPS)
    needed = [s for s in order[: order.index(step)] if s not in OPTIONAL_STEPS]
    if step == "disk_operation":
        needed.append("disk_consent")
    return [s for s in needed if s not in done]


def _signature(value: Any, key: str, errors: list[FieldError]) -> str:
    """A drawn signature: a PNG image, base64-encoded, not empty and not too large."""
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(key, "is missing: the customer signs on the screen"))
        return ""
    text = value.strip().removeprefix("data:image/png;base64,")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        errors.append(FieldError(key, "is not a signature image (expected PNG, base64)"))
        return ""
    if not raw.startswith(PNG_MAGIC):
        errors.append(FieldError(key, "is not a signature image (expected PNG, base64)"))
        return ""
    if len(raw) > MAX_SIGNATURE_BYTES:
        errors.append(FieldError(key, "is too large: at most 256 KB"))
        return ""
    return text


def _owned(out: Mapping[str, Any], actor: Actor) -> None:
    if not (is_engineer(out, actor) or actor.supervisor):
        raise ValidationFailed(
            [
                FieldError(
                    "engineer", f"this visit is {out.get('engineer_name') or 'someone else'}'s"
                )
            ]
        )


def _open(out: Mapping[str, Any]) -> None:
    if out.get("state") in ("closed", "cancelled"):
        raise ValidationFailed([FieldError("state", f"the visit is {out['state']}")])


def apply_visit_op(
    record: Mapping[str, Any],
    op: str,
    fields: Mapping[str, Any],
    actor: Actor,
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """One step on a visit; the same step sent twice changes nothing the second time."""
    out = dict(record)
    at = now
    if fields.get("at"):
        at = parse_time(fields["at"], "at")
        if at > now + MAX_CLOCK_SKEW:
            raise ValidationFailed([FieldError("at", "is in the future: check the clock")])
    errors: list[FieldError] = []
    if op == "checklist":
        _owned(out, actor)
        _open(out)
        parts = _items(fields.get("parts"), "parts", errors, with_quantity=True)
        tools = _items(fields.get("tools"), "tools", errors, with_quantity=True)
        if errors:
            raise ValidationFailed(errors)
        out["checklist"] = {
            "parts": parts,
            "tools": tools,
            "form_ready": bool(fields.get("form_ready")),
        }
        return out
    if op == "running_late":
        _owned(out, actor)
        _open(out)
        eta = _time(fields, "eta", errors)
        reason = text_field(fields, "reason", errors, max_len=MAX_LINE)
        if eta is not None and not errors:
            sent = {"at": _iso(at), "eta": _iso(eta), "reason": reason, "by": actor.label}
            if sent in (out.get("late") or []):
                return out  # sent again (a replayed outbox), even after the arrival
        if (out.get("steps") or {}).get("arrival"):
            raise ValidationFailed([FieldError("state", "the engineer has arrived already")])
        if eta is not None and eta <= at:
            errors.append(FieldError("eta", "must be later than now"))
        if errors:
            raise ValidationFailed(errors)
        assert eta is not None
        late = {"at": _iso(at), "eta": _iso(eta), "reason": reason, "by": actor.label}
        if late in (out.get("late") or []):
            return out
        out["eta"] = _iso(eta)
        out["late"] = [*(out.get("late") or []), late]
        return out
    if op == "step":
        _owned(out, actor)
        _open(out)
        step = str(fields.get("step") or "")
        if step not in STEPS:
            raise ValidationFailed([FieldError("step", f"choose one of: {', '.join(STEPS)}")])
        steps = dict(out.get("steps") or {})
        if step in steps:
            if _same_step(steps[step], fields):
                return out  # the same step again
            raise ValidationFailed(
                [
                    FieldError(
                        "step",
                        f"{STEPS[step].lower()} was recorded already by {steps[step].get('by')}",
                    )
                ]
            )
        missing = missing_before(out, step)
        if missing:
            names = ", ".join(STEPS[s].lower() for s in missing)
            raise ValidationFailed([FieldError("step", f"first: {names}")])
        entry: dict[str, Any] = {"at": _iso(at), "by": actor.label}
        if step in CONSENT_STEPS:
            who = text_field(fields, "consent_by", errors, max_len=MAX_LINE)
            if not who and not any(e.field == "consent_by" for e in errors):
                errors.append(FieldError("consent_by", "is empty: who gave consent"))
            how = fields.get("how") or "in person"
            if how not in CONSENT_WAYS:
                errors.append(FieldError("how", f"choose one of: {', '.join(CONSENT_WAYS)}"))
            entry.update(consent_by=who, how=how)
            if step == "disk_consent":
                # Consent by phone when the user is away; the signature on the repair form
                # is still needed before the disk is touched.
                entry["signature"] = _signature(fields.get("signature"), "signature", errors)
                signer = text_field(fields, "signer_name", errors, max_len=MAX_LINE)
                entry["signer_name"] = signer or who
        if step == "arrival":
            start = dt.datetime.fromisoformat(str(out["window_start"]))
            end = dt.datetime.fromisoformat(str(out["eta"] or out["window_end"]))
            entry["on_time"] = at <= max(end, start)
        if errors:
            raise ValidationFailed(errors)
        steps[step] = entry
        out["steps"] = steps
        if step == "arrival":
            out["state"] = "on_site"
        return out
    if op == "report":
        _owned(out, actor)
        if out.get("state") == "closed":
            if _same_report(out.get("report") or {}, fields):
                return out  # the same report again
            closed = out.get("report") or {}
            raise ValidationFailed(
                [
                    FieldError(
                        "state",
                        f"closed already by {closed.get('closed_by')}: "
                        "this report is kept on your desk",
                    )
                ]
            )
        _open(out)
        if "arrival" not in (out.get("steps") or {}):
            raise ValidationFailed([FieldError("state", "record the arrival before the report")])
        work = text_field(fields, "work_done", errors, max_len=MAX_TEXT, multiline=True)
        if not work and not any(e.field == "work_done" for e in errors):
            errors.append(FieldError("work_done", "is empty: say what was done"))
        parts = _items(fields.get("parts_used"), "parts_used", errors, with_quantity=True)
        minutes = fields.get("minutes_on_site")
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not 0 < minutes <= MAX_ON_SITE_MIN
        ):
            errors.append(FieldError("minutes_on_site", "expected the minutes on site (1 to 1440)"))
        reason = text_field(fields, "no_signature_reason", errors, max_len=MAX_LINE)
        signature = ""
        signer = text_field(fields, "signer_name", errors, max_len=MAX_LINE)
        if fields.get("signature") or not reason:
            signature = _signature(fields.get("signature"), "signature", errors)
            if not reason and any(e.field == "signature" for e in errors):
                errors = [
                    FieldError(
                        "signature",
                        e.message + " (or record why the customer could not sign)",
                    )
                    if e.field == "signature"
                    else e
                    for e in errors
                ]
            if signature and not signer:
                errors.append(FieldError("signer_name", "is empty: the name of who signed"))
        rating = fields.get("rating")
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            errors.append(FieldError("rating", "expected 1 to 5 stars"))
        comment = text_field(fields, "comment", errors, max_len=MAX_TEXT, multiline=True)
        if errors:
            raise ValidationFailed(errors)
        out["report"] = {
            "work_done": work,
            "parts_used": parts,
            "minutes_on_site": minutes,
            "signature": signature or None,
            "signer_name": signer if signature else "",
            "no_signature_reason": reason if not signature else "",
            "rating": rating,
            "comment": comment,
            "closed_at": _iso(at),
            "closed_by": actor.label,
        }
        out["state"] = "closed"
        return out
    if op == "cancel":
        if out.get("state") == "cancelled":
            return out
        _open(out)
        scheduler = out.get("scheduled_by_id")
        if not (is_engineer(out, actor) or actor.supervisor or actor.user_id == scheduler):
            raise ValidationFailed(
                [FieldError("state", "only the engineer, who scheduled it or a supervisor")]
            )
        if "arrival" in (out.get("steps") or {}):
            raise ValidationFailed([FieldError("state", "the engineer is on site: close it")])
        reason = text_field(fields, "reason", errors, max_len=MAX_LINE)
        if not reason and not errors:
            errors.append(FieldError("reason", "is empty: say why the visit is cancelled"))
        if errors:
            raise ValidationFailed(errors)
        out["state"] = "cancelled"
        out["cancelled"] = {"at": _iso(at), "by": actor.label, "reason": reason}
        return out
    raise ValidationFailed([FieldError("op", f"choose one of: {', '.join(OPS[1:])}")])


def _same_step(done: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether a step sent again is the one recorded (a replay), not a different one."""
    for key in ("consent_by", "how", "signature"):
        if key in done and fields.get(key) not in (None, "") and key != "how":
            sent = str(fields.get(key) or "").strip().removeprefix("data:image/png;base64,")
            if key == "consent_by":
                sent = " ".join(sent.split())
            if sent != done[key]:
                return False
    return True


def _same_report(report: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    work = " ".join(str(fields.get("work_done") or "").split())
    recorded = " ".join(str(report.get("work_done") or "").split())
    signature = str(fields.get("signature") or "").strip().removeprefix("data:image/png;base64,")
    return work == recorded and signature == str(report.get("signature") or "")


def prepared(record: Mapping[str, Any]) -> bool:
    """Everything on the checklist is packed and the service form is ready."""
    checklist = record.get("checklist") or {}
    items = [*(checklist.get("parts") or []), *(checklist.get("tools") or [])]
    return bool(checklist.get("form_ready")) and all(i.get("packed") for i in items)


def visits_for_day(
    records: Iterable[Mapping[str, Any]], day: dt.date, tz: dt.tzinfo
) -> list[dict[str, Any]]:
    """Open visits whose window starts on ``day`` (in ``tz``), earliest first."""
    found = [
        dict(r)
        for r in records
        if r.get("state") in ("scheduled", "on_site")
        and dt.datetime.fromisoformat(str(r["window_start"])).astimezone(tz).date() == day
    ]
    return sorted(found, key=lambda r: (str(r["window_start"]), str(r["id"])))


def upcoming(records: Iterable[Mapping[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """Open visits, soonest first: every visit on site or not yet sent, and scheduled ones
    whose window (or new arrival time) has not long passed."""

    def current(r: Mapping[str, Any]) -> bool:
        if r.get("state") == "on_site" or r.get("unsent"):
            return True
        if r.get("state") != "scheduled":
            return False
        end = dt.datetime.fromisoformat(str(r.get("eta") or r["window_end"]))
        end = max(end, dt.datetime.fromisoformat(str(r["window_end"])))
        return end >= now - dt.timedelta(hours=12)

    found = [dict(r) for r in records if current(r)]
    return sorted(found, key=lambda r: (str(r["window_start"]), str(r["id"])))


def introduction(language: str, engineer: str, organisation: str) -> str:
    """The standard phrase on arrival, in the customer's language."""
    template = INTRODUCTION.get("zh_CN" if language == "zh" else language, INTRODUCTION["en"])
    return template.format(engineer=engineer, organisation=organisation)


def history_entry(visit: Mapping[str, Any]) -> dict[str, Any]:
    """A visit as a line of the customer's contact history (shaped like a contact record)."""
    report = visit.get("report") or {}
    entry: dict[str, Any] = {
        "id": visit["id"],
        "channel": "visit",
        "direction": "out",
        "offered_at": visit["window_start"],
        "answered_by": visit.get("engineer_name") or visit.get("engineer"),
        "caller_name": visit.get("customer_name") or "",
        "state": STATES.get(str(visit.get("state")), str(visit.get("state"))),
        "notes": [],
    }
    notes = [
        {
            "at": visit.get("scheduled_at"),
            "by": visit.get("scheduled_by"),
            "text": visit.get("fault"),
        }
    ]
    if report:
        signed = (
            "signed by " + str(report.get("signer_name"))
            if report.get("signature")
            else ("not signed: " + str(report.get("no_signature_reason")))
        )
        entry["wrap_up"] = {
            "category": "on-site visit",
            "outcome": f"Service report {signed}",
            "by": report.get("closed_by"),
        }
        notes.append(
            {
                "at": report.get("closed_at"),
                "by": report.get("closed_by"),
                "text": report.get("work_done"),
            }
        )
    entry["notes"] = notes
    return entry
