"""Training records: a trainee's rehearsal attempts, a supervisor's assignments, and the
standard answers a supervisor publishes.

An **attempt** is one played scenario. It is scored where it is recorded, by the same scorer
that gave the feedback (:mod:`agentdesk.domain.rehearsal`); the server scores it again from
the replies, so a score can never be sent in. Attempts are kept for good; a supervisor may
add a review to one.

An **assignment** asks a trainee to rehearse one scenario in one language, optionally by a
date. It is done once the trainee has passed the scenario after it was assigned.

A **standard answer** is the model answer of one turn of a scenario, written by supervisors
(the manual's method: collect the hard questions, write standard answers together, rehearse,
publish). A published answer must itself pass the turn's rubric: trainees are never shown a
model that the scorer would fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from agentdesk.domain.coach import language_of, load_coach
from agentdesk.domain.contacts import Actor, parse_time, required_time, text_field
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.rehearsal import (
    PASS_MARK,
    SECTIONS,
    Scenario,
    ScenarioError,
    load_scenarios,
    score,
    score_turn,
)

MAX_REPLY: Final = 2000
MAX_ANSWER: Final = 2000
MAX_NOTE: Final = 1000
MAX_SECONDS: Final = 24 * 3600
#: How far ahead of this clock a desk's start time may be (clocks drift).
MAX_CLOCK_SKEW: Final = dt.timedelta(minutes=10)
ATTEMPT_OPS: Final = ("review",)
ASSIGNMENT_OPS: Final = ("cancel",)


@dataclass(frozen=True)
class Trainee:
    """Whom an assignment is for, as the directory knows them (empty when unknown)."""

    username: str = ""
    full_name: str = ""
    user_id: str = ""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


@functools.cache
def scenario_library(lang: str) -> dict[str, Scenario]:
    """The scenarios of a language by id, read once per process."""
    return {s.id: s for s in load_scenarios(lang)}


def find(scenario_id: str, lang: str) -> Scenario | None:
    try:
        return scenario_library(language_of(lang)).get(scenario_id)
    except (ValueError, ScenarioError):
        return None


def _scenario(fields: Mapping[str, Any], errors: list[FieldError]) -> Scenario | None:
    """The scenario and language a record names; errors name ``language`` or ``scenario``."""
    raw_lang = fields.get("language")
    try:
        lang = language_of(str(raw_lang or ""))
    except ValueError:
        errors.append(FieldError("language", "expected en, zh (or zh_CN) or nb"))
        return None
    scenario_id = text_field(fields, "scenario", errors, max_len=64)
    if not scenario_id:
        if not any(e.field == "scenario" for e in errors):
            errors.append(FieldError("scenario", "is empty: name the scenario"))
        return None
    found = find(scenario_id, lang)
    if found is None:
        known = ", ".join(sorted(scenario_library(lang)))
        errors.append(
            FieldError("scenario", f"no scenario {scenario_id!r}; expected one of {known}")
        )
    return found


def _replies(
    fields: Mapping[str, Any], scenario: Scenario | None, errors: list[FieldError]
) -> tuple[list[str], list[float | None]]:
    raw = fields.get("replies")
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("replies", "expected a list of the trainee's replies"))
        return [], []
    if scenario is not None and len(raw) > len(scenario.turns):
        errors.append(
            FieldError("replies", f"the scenario has {len(scenario.turns)} turns; got {len(raw)}")
        )
        return [], []
    replies = []
    for index, value in enumerate(raw):
        key = f"replies[{index}]"
        reply = text_field({key: value}, key, errors, max_len=MAX_REPLY, multiline=True)
        if isinstance(value, str) and not reply and not any(e.field == key for e in errors):
            errors.append(FieldError(key, "is empty: every turn needs a reply"))
        replies.append(reply)
    raw_seconds = fields.get("seconds", [])
    if not isinstance(raw_seconds, list) or len(raw_seconds) not in (0, len(raw)):
        errors.append(FieldError("seconds", "expected one number of seconds per reply"))
        return replies, []
    seconds: list[float | None] = []
    for index, value in enumerate(raw_seconds):
        if value is None:
            seconds.append(None)
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0 <= value <= MAX_SECONDS
        ):
            seconds.append(round(float(value), 1))
        else:
            errors.append(FieldError(f"seconds[{index}]", "expected seconds from 0 to 86400"))
    return replies, seconds


def new_attempt(
    fields: Mapping[str, Any], actor: Actor, *, attempt_id: str, now: dt.datetime
) -> dict[str, Any]:
    """A played scenario, scored; raises ValidationFailed naming each field at fault."""
    errors: list[FieldError] = []
    scenario = _scenario(fields, errors)
    replies, seconds = _replies(fields, scenario, errors)
    started = required_time(fields, "started_at", errors, "when the rehearsal began")
    finished = now
    if fields.get("finished_at") not in (None, ""):
        # Played offline, kept on the desk, sent later: the desk's own time counts.
        finished = required_time(fields, "finished_at", errors, "when it ended") or now
    if finished > now + MAX_CLOCK_SKEW:
        errors.append(FieldError("finished_at", "is in the future: check the computer's clock"))
    if started is not None and started > finished:
        errors.append(FieldError("started_at", "is after the end: check the computer's clock"))
    if errors:
        raise ValidationFailed(errors)
    assert scenario is not None and started is not None
    result = score(scenario, replies, seconds=seconds)
    return {
        "id": attempt_id,
        "version": 0,
        "trainee": actor.username,
        "trainee_id": actor.user_id,
        "trainee_name": actor.label,
        "scenario": scenario.id,
        "language": language_of(scenario.language),
        "title": scenario.title,
        "replies": replies,
        "seconds": seconds,
        "complete": len(replies) == len(scenario.turns),
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "score": result.score,
        "passed": result.passed and len(replies) == len(scenario.turns),
        "sections": result.sections,
        "result": result.as_json(),
        "reviews": [],
    }


def apply_attempt_op(
    record: Mapping[str, Any], op: str, fields: Mapping[str, Any], actor: Actor, *, now: dt.datetime
) -> dict[str, Any]:
    """A supervisor's review of an attempt: the only change an attempt takes."""
    if op not in ATTEMPT_OPS:
        raise ValidationFailed(
            [FieldError("op", "an attempt is kept as played; a supervisor may add a review")]
        )
    if not actor.supervisor:
        raise ValidationFailed([FieldError("role", "only a supervisor reviews an attempt")])
    errors: list[FieldError] = []
    text = text_field(fields, "text", errors, max_len=MAX_NOTE, multiline=True)
    if not text and not errors:
        errors.append(FieldError("text", "is empty: write what the trainee should keep or change"))
    if errors:
        raise ValidationFailed(errors)
    out = dict(record)
    out["reviews"] = [
        *record.get("reviews", []),
        {"by": actor.label, "by_id": actor.user_id, "at": _iso(now), "text": text},
    ]
    return out


def new_assignment(
    fields: Mapping[str, Any],
    actor: Actor,
    trainee: Trainee,
    *,
    assignment_id: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """A scenario a supervisor asks a trainee to rehearse; raises ValidationFailed naming
    each field at fault."""
    errors: list[FieldError] = []
    if not actor.supervisor:
        errors.append(FieldError("role", "only a supervisor assigns scenarios"))
    name = text_field(fields, "trainee", errors, max_len=64)
    if not name and not any(e.field == "trainee" for e in errors):
        errors.append(FieldError("trainee", "is empty: choose the trainee"))
    elif name and not trainee.username:
        errors.append(FieldError("trainee", f"no one named {name!r} can rehearse"))
    scenario = _scenario(fields, errors)
    due: dt.datetime | None = None
    if fields.get("due") not in (None, ""):
        try:
            due = parse_time(fields.get("due"), "due")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        else:
            if due < now - dt.timedelta(days=1):
                errors.append(FieldError("due", "has passed: give a date from today on"))
    note = text_field(fields, "note", errors, max_len=MAX_NOTE, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    assert scenario is not None
    return {
        "id": assignment_id,
        "version": 0,
        "trainee": trainee.username,
        "trainee_id": trainee.user_id or None,
        "trainee_name": trainee.full_name or trainee.username,
        "scenario": scenario.id,
        "language": language_of(scenario.language),
        "title": scenario.title,
        "due": _iso(due) if due is not None else None,
        "note": note,
        "assigned_by": actor.label,
        "assigned_by_id": actor.user_id,
        "assigned_at": _iso(now),
        "state": "open",
    }


def apply_assignment_op(
    record: Mapping[str, Any], op: str, fields: Mapping[str, Any], actor: Actor, *, now: dt.datetime
) -> dict[str, Any]:
    """Cancelling an assignment (a supervisor's step)."""
    if op not in ASSIGNMENT_OPS:
        raise ValidationFailed([FieldError("op", "an assignment can only be cancelled")])
    if not actor.supervisor:
        raise ValidationFailed([FieldError("role", "only a supervisor cancels an assignment")])
    out = dict(record)
    if out.get("state") == "cancelled":
        return out
    out["state"] = "cancelled"
    out["cancelled_at"] = _iso(now)
    out["cancelled_by"] = actor.label
    return out


def assignment_status(
    assignment: Mapping[str, Any], attempts: Iterable[Mapping[str, Any]], now: dt.datetime
) -> str:
    """``done`` (passed since it was assigned), ``cancelled``, ``overdue`` or ``open``."""
    if assignment.get("state") == "cancelled":
        return "cancelled"
    since = str(assignment.get("assigned_at") or "")
    for attempt in attempts:
        if (
            attempt.get("trainee") == assignment.get("trainee")
            and attempt.get("scenario") == assignment.get("scenario")
            and attempt.get("language") == assignment.get("language")
            and attempt.get("passed")
            and str(attempt.get("finished_at") or "") >= since
        ):
            return "done"
    due = assignment.get("due")
    if due and dt.datetime.fromisoformat(str(due)) < now:
        return "overdue"
    return "open"


# --- progress ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A trainee's attempts over time: the score of each, and each section's scores."""

    trainee: str
    attempts: int
    passed: int
    points: tuple[tuple[dt.datetime, int], ...]  # (finished, score), oldest first
    sections: dict[str, tuple[tuple[dt.datetime, int], ...]]
    latest: dict[str, int]  # each section's latest score

    @property
    def weakest(self) -> str | None:
        """The section to practise next: the lowest latest score under the pass mark."""
        low = sorted((v, k) for k, v in self.latest.items() if v < PASS_MARK)
        return SECTIONS[low[0][1]] if low else None


def progress(trainee: str, attempts: Iterable[Mapping[str, Any]]) -> Progress:
    """What the chart shows: a trainee's scores, by section, over time."""
    mine = sorted(
        (a for a in attempts if a.get("trainee") == trainee),
        key=lambda a: str(a.get("finished_at") or ""),
    )
    points = []
    sections: dict[str, list[tuple[dt.datetime, int]]] = {}
    latest: dict[str, int] = {}
    for attempt in mine:
        when = dt.datetime.fromisoformat(str(attempt["finished_at"]))
        points.append((when, int(attempt.get("score") or 0)))
        for name, value in dict(attempt.get("sections") or {}).items():
            if name in SECTIONS:
                sections.setdefault(name, []).append((when, int(value)))
                latest[name] = int(value)
    return Progress(
        trainee=trainee,
        attempts=len(mine),
        passed=sum(1 for a in mine if a.get("passed")),
        points=tuple(points),
        sections={k: tuple(v) for k, v in sections.items()},
        latest=latest,
    )


# --- standard answers -------------------------------------------------------------------------


def check_standard_answer(fields: Mapping[str, Any]) -> tuple[Scenario, int, str]:
    """A standard answer a supervisor wants to publish: the scenario, the turn and the text.

    The answer must pass its turn's rubric with full marks (so the model shown to trainees is
    one the scorer accepts); otherwise ValidationFailed names ``text`` with what is missing or
    to avoid.
    """
    errors: list[FieldError] = []
    scenario = _scenario(fields, errors)
    turn_raw = fields.get("turn")
    turn = -1
    if isinstance(turn_raw, bool) or not isinstance(turn_raw, int):
        errors.append(FieldError("turn", "expected the turn's number, from 0"))
    elif scenario is not None and not 0 <= turn_raw < len(scenario.turns):
        errors.append(FieldError("turn", f"expected 0 to {len(scenario.turns) - 1}"))
    else:
        turn = turn_raw
    text = text_field(fields, "text", errors, max_len=MAX_ANSWER, multiline=True)
    if not text and not any(e.field == "text" for e in errors):
        errors.append(FieldError("text", "is empty: write the answer agents should give"))
    if errors:
        raise ValidationFailed(errors)
    assert scenario is not None
    scored = score_turn(scenario.turns[turn], text, load_coach(language_of(scenario.language)))
    if not scored.passed or scored.score < 100:
        reasons = [f.reason for f in scored.findings if f.kind != "right"]
        raise ValidationFailed(
            [FieldError("text", "the scorer would not pass this answer: " + "; ".join(reasons))]
        )
    return scenario, turn, text


def with_answers(scenario: Scenario, answers: Sequence[Mapping[str, Any]]) -> Scenario:
    """The scenario with the published standard answers as its model answers."""
    lang = language_of(scenario.language)
    models = {
        int(a["turn"]): str(a["text"])
        for a in answers
        if a.get("scenario") == scenario.id and a.get("language") == lang
    }
    if not models:
        return scenario
    turns = tuple(
        dataclasses.replace(turn, model=models.get(index, turn.model))
        for index, turn in enumerate(scenario.turns)
    )
    return dataclasses.replace(scenario, turns=turns)
