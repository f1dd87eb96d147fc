"""Training over REST: published standard answers, and reading attempts and assignments.

Desks record attempts and assignments through the sync push (so a rehearsal played offline
is kept and sent later); these routes serve publishing and reading from any client.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from agentdesk.server import training
from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.server.customers import Forbidden
from agentdesk.wire import StandardAnswerIn, StandardAnswerPublic, UserPublic

router = APIRouter(prefix="/api/v1/training", tags=["training"])


@router.get("/answers", response_model=list[StandardAnswerPublic])
def standard_answers(session: SessionDep, viewer: ViewerDep) -> list[StandardAnswerPublic]:
    """The newest published standard answer of every scenario turn; desks show them as the
    model answers, over their own copies."""
    return training.newest_answers(session)


@router.post("/answers", status_code=status.HTTP_201_CREATED, response_model=StandardAnswerPublic)
def publish_standard_answer(
    body: StandardAnswerIn, session: SessionDep, viewer: ViewerDep
) -> StandardAnswerPublic:
    """Publish a standard answer (supervisors). It must pass the turn's rubric with full
    marks; otherwise the 422 answer names ``text`` with what is missing or to avoid."""
    if not viewer.sees_everything:
        raise Forbidden()
    published = training.publish_answer(session, viewer, body.model_dump())
    session.commit()
    return published


@router.get("/trainees", response_model=list[UserPublic])
def trainees(session: SessionDep, viewer: ViewerDep) -> list[UserPublic]:
    """Everyone who can be assigned a scenario (supervisors only)."""
    if not viewer.sees_everything:
        raise Forbidden()
    return training.rehearsers(session)


@router.get("/attempts")
def list_attempts(
    session: SessionDep,
    viewer: ViewerDep,
    trainee: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """Rehearsal attempts, newest first: your own, or everyone's for supervisors."""
    return training.list_attempts(session, viewer, trainee=trainee, limit=limit)


@router.get("/attempts/{attempt_id}")
def read_attempt(attempt_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> dict[str, Any]:
    try:
        return training.attempt_record(training.get_attempt(session, viewer, str(attempt_id)))
    except training.TrainingNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such attempt") from None


@router.get("/assignments")
def list_assignments(
    session: SessionDep,
    viewer: ViewerDep,
    trainee: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """Scenarios assigned: to you, or to everyone for supervisors; newest first."""
    return training.list_assignments(session, viewer, trainee=trainee, limit=limit)
