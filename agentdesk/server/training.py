"""Training on the server: rehearsal attempts, assignments and published standard answers.

An attempt is seen by the one who played it and by supervisors; so is an assignment. The
server scores every attempt again from its replies with the core's scorer, so the score it
keeps is never one a desk sent. Standard answers are published by supervisors to every desk.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from agentdesk.domain.coach import language_of
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.training import (
    Trainee,
    apply_assignment_op,
    apply_attempt_op,
    check_standard_answer,
    new_assignment,
    new_attempt,
)
from agentdesk.server.accounts import Viewer, active_user, public_user
from agentdesk.server.audit import note_change
from agentdesk.server.contacts import actor_for, aware
from agentdesk.server.db import lock_seq, next_seq
from agentdesk.server.events import record_event
from agentdesk.server.models import Assignment, Attempt, StandardAnswer, User, utcnow
from agentdesk.wire import Mutation, StandardAnswerPublic, UserPublic

#: Roles a supervisor can assign scenarios to.
REHEARSING_ROLES: Final = ("trainee", "agent")


class TrainingNotFound(LookupError):
    """No such attempt or assignment, or none the viewer may see."""


def attempt_record(row: Attempt) -> dict[str, Any]:
    return {**row.data, "id": row.id, "version": row.version}


def assignment_record(row: Assignment) -> dict[str, Any]:
    return {**row.data, "id": row.id, "version": row.version, "state": row.state}


def _theirs(viewer: Viewer, row: Attempt | Assignment) -> bool:
    """Whether the viewer may see a training record: the trainee's own, or a supervisor."""
    return viewer.sees_everything or row.trainee_id == viewer.user_id


def attempt_visibility(viewer: Viewer) -> ColumnElement[bool]:
    return true() if viewer.sees_everything else Attempt.trainee_id == viewer.user_id


def assignment_visibility(viewer: Viewer) -> ColumnElement[bool]:
    return true() if viewer.sees_everything else Assignment.trainee_id == viewer.user_id


def rehearsers(session: Session) -> list[UserPublic]:
    """Everyone a supervisor can assign scenarios to (trainees and agents), by name."""
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(REHEARSING_ROLES))
        .order_by(User.full_name, User.username)
    )
    return [public_user(session, user) for user in users]


def _trainee(session: Session, username: str) -> tuple[Trainee, User | None]:
    user = active_user(session, username, REHEARSING_ROLES)
    if user is None:
        return Trainee(), None
    return Trainee(username=user.username, full_name=user.full_name, user_id=user.id), user


def apply_attempt_mutation(session: Session, viewer: Viewer, mutation: Mutation) -> Attempt:
    """Keep a played scenario (scored here) or a supervisor's review of one."""
    lock_seq(session)
    now = utcnow()
    actor = actor_for(session, viewer)
    attempt_id = str(mutation.entity_id)
    row = session.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
    before = attempt_record(row) if row is not None else None
    if mutation.op == "create":
        if row is not None:
            raise ValidationFailed([FieldError("id", "an attempt with this id exists")])
        record = new_attempt(mutation.fields, actor, attempt_id=attempt_id, now=now)
        row = Attempt(
            id=attempt_id,
            version=0,
            seq=next_seq(session),
            trainee_id=viewer.user_id,
            scenario=record["scenario"],
            language=record["language"],
            score=record["score"],
            finished_at=dt.datetime.fromisoformat(record["finished_at"]),
            data={},
        )
        session.add(row)
    else:
        if row is None or not _theirs(viewer, row):
            raise TrainingNotFound(attempt_id)
        record = apply_attempt_op(attempt_record(row), mutation.op, mutation.fields, actor, now=now)
        row.seq = next_seq(session)
    row.data = {k: v for k, v in record.items() if k not in ("id", "version", "unsent")}
    row.version += 1
    session.flush()
    note_change(
        session,
        user_id=viewer.user_id,
        entity="attempt",
        entity_id=attempt_id,
        op=mutation.op,
        before=before,
        after=attempt_record(row),
    )
    record_event(session, "attempt", _brief(attempt_record(row)), None, audience={row.trainee_id})
    return row


def apply_assignment_mutation(session: Session, viewer: Viewer, mutation: Mutation) -> Assignment:
    """Assign a scenario to a trainee, or cancel an assignment (supervisors only)."""
    lock_seq(session)
    now = utcnow()
    actor = actor_for(session, viewer)
    assignment_id = str(mutation.entity_id)
    row = session.scalar(select(Assignment).where(Assignment.id == assignment_id).with_for_update())
    before = assignment_record(row) if row is not None else None
    if mutation.op == "create":
        if row is not None:
            raise ValidationFailed([FieldError("id", "an assignment with this id exists")])
        trainee, user = _trainee(session, str(mutation.fields.get("trainee") or ""))
        record = new_assignment(
            mutation.fields, actor, trainee, assignment_id=assignment_id, now=now
        )
        assert user is not None
        row = Assignment(
            id=assignment_id,
            version=0,
            seq=next_seq(session),
            trainee_id=user.id,
            state="open",
            data={},
        )
        session.add(row)
    else:
        if row is None or not _theirs(viewer, row):
            raise TrainingNotFound(assignment_id)
        record = apply_assignment_op(
            assignment_record(row), mutation.op, mutation.fields, actor, now=now
        )
        row.seq = next_seq(session)
    row.state = record["state"]
    row.data = {k: v for k, v in record.items() if k not in ("id", "version", "state", "unsent")}
    row.version += 1
    session.flush()
    note_change(
        session,
        user_id=viewer.user_id,
        entity="assignment",
        entity_id=assignment_id,
        op=mutation.op,
        before=before,
        after=assignment_record(row),
    )
    record_event(
        session, "assignment", _brief(assignment_record(row)), None, audience={row.trainee_id}
    )
    return row


def _brief(record: dict[str, Any]) -> dict[str, Any]:
    """What an event says of a training record (the pull brings the rest)."""
    keys = ("id", "version", "trainee", "scenario", "language", "title", "score", "state")
    return {k: record[k] for k in keys if k in record}


def get_attempt(session: Session, viewer: Viewer, attempt_id: str) -> Attempt:
    row = session.get(Attempt, attempt_id)
    if row is None or not _theirs(viewer, row):
        raise TrainingNotFound(attempt_id)
    return row


def get_assignment(session: Session, viewer: Viewer, assignment_id: str) -> Assignment:
    row = session.get(Assignment, assignment_id)
    if row is None or not _theirs(viewer, row):
        raise TrainingNotFound(assignment_id)
    return row


def list_attempts(
    session: Session, viewer: Viewer, *, trainee: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = select(Attempt).where(attempt_visibility(viewer))
    if trainee:
        query = query.join(User, User.id == Attempt.trainee_id).where(User.username == trainee)
    rows = session.scalars(query.order_by(Attempt.finished_at.desc(), Attempt.id).limit(limit))
    return [attempt_record(row) for row in rows]


def list_assignments(
    session: Session, viewer: Viewer, *, trainee: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = select(Assignment).where(assignment_visibility(viewer))
    if trainee:
        query = query.join(User, User.id == Assignment.trainee_id).where(User.username == trainee)
    rows = session.scalars(query.order_by(Assignment.seq.desc()).limit(limit))
    return [assignment_record(row) for row in rows]


# --- standard answers -------------------------------------------------------------------------


def publish_answer(
    session: Session, viewer: Viewer, fields: dict[str, Any]
) -> StandardAnswerPublic:
    """Publish a new version of a turn's standard answer; every desk is told at once.
    Raises ValidationFailed naming the field (an answer the scorer would fail names
    ``text``)."""
    if not viewer.sees_everything:
        raise ValidationFailed([FieldError("role", "only a supervisor publishes standard answers")])
    scenario, turn, text = check_standard_answer(fields)
    publish_id = str(fields["id"]) if fields.get("id") else None
    if publish_id is not None:
        done = session.scalar(select(StandardAnswer).where(StandardAnswer.publish_id == publish_id))
        if done is not None:
            if (done.scenario, done.turn, done.text) != (scenario.id, turn, text):
                raise ValidationFailed([FieldError("id", "was used for another answer")])
            return _answer_public(done)
    actor = actor_for(session, viewer)
    language = language_of(str(fields["language"]))
    lock_seq(session)
    latest = session.scalar(
        select(func.max(StandardAnswer.version)).where(
            StandardAnswer.scenario == scenario.id,
            StandardAnswer.language == language,
            StandardAnswer.turn == turn,
        )
    )
    row = StandardAnswer(
        scenario=scenario.id,
        language=language,
        turn=turn,
        version=(latest or 0) + 1,
        text=text,
        published_by=actor.label,
        publish_id=publish_id,
    )
    session.add(row)
    session.flush()
    public = _answer_public(row)
    # Every desk hears of it, trainees' included.
    record_event(session, "answers", public.model_dump(), None)
    return public


def _answer_public(row: StandardAnswer) -> StandardAnswerPublic:
    return StandardAnswerPublic(
        scenario=row.scenario,
        language=row.language,
        turn=row.turn,
        text=row.text,
        version=row.version,
        published_by=row.published_by,
        published_at=aware(row.published_at).isoformat(),
    )


def newest_answers(session: Session) -> list[StandardAnswerPublic]:
    """The newest published standard answer of every turn, in every language."""
    rows = session.scalars(
        select(StandardAnswer).order_by(
            StandardAnswer.scenario,
            StandardAnswer.language,
            StandardAnswer.turn,
            StandardAnswer.version.desc(),
        )
    )
    seen: set[tuple[str, str, int]] = set()
    found = []
    for row in rows:
        key = (row.scenario, row.language, row.turn)
        if key not in seen:
            seen.add(key)
            found.append(_answer_public(row))
    return found
