"""Messages for colleagues over REST: take one, list the inbox, and move it along.

Desks use the sync push for the same steps (so a message taken offline is delivered later);
these routes serve other clients and scripts.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from agentdesk.domain.messages import is_overdue
from agentdesk.server import messages
from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.server.models import Message, utcnow
from agentdesk.wire import (
    CalledBackIn,
    EscalationPublic,
    HandOnIn,
    MessageIn,
    MessagePublic,
    Mutation,
)

router = APIRouter(prefix="/api/v1", tags=["messages"])


def _public(record: dict[str, Any]) -> MessagePublic:
    return MessagePublic.model_validate({**record, "overdue": is_overdue(record, utcnow())})


def _step(
    session: SessionDep, viewer: ViewerDep, message_id: uuid.UUID, op: str, fields: dict[str, Any]
) -> MessagePublic:
    mutation = Mutation(
        id=uuid.uuid4(),
        entity="message",
        entity_id=message_id,
        op=op,
        base_version=0,
        fields=fields,
    )
    try:
        row = messages.apply_message_mutation(session, viewer, mutation)
    except messages.MessageNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such message") from None
    session.commit()
    return _public(messages.message_record(row))


@router.post("/messages", response_model=MessagePublic, status_code=status.HTTP_201_CREATED)
def take_message(body: MessageIn, session: SessionDep, viewer: ViewerDep) -> MessagePublic:
    """Take a message for a colleague or a team; it reaches their desk at once.

    Every missing or invalid field is named in the 422 answer (``phone`` for a number
    without area code or invalid for its country).
    """
    fields = body.model_dump(exclude={"id"}, exclude_none=True)
    if body.id is not None:
        # The same message sent again (the answer was lost): the one already taken.
        existing = session.get(Message, str(body.id))
        if existing is not None and existing.taken_by_id == viewer.user_id:
            return _public(messages.message_record(existing))
    return _step(session, viewer, body.id or uuid.uuid4(), "create", fields)


@router.get("/messages", response_model=list[MessagePublic])
def list_messages(  # noqa: PLR0917 (FastAPI query parameters)
    session: SessionDep,
    viewer: ViewerDep,
    mine: bool = False,
    state: Annotated[str | None, Query(pattern="^(new|acknowledged|called_back)$")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[MessagePublic]:
    """Messages you may see (you took them, they are or were for you or your team; all of
    them for supervisors). ``mine``: only those now for you."""
    found = messages.list_messages(
        session, viewer, mine=mine, state=state, overdue=overdue, now=utcnow(), limit=limit
    )
    return [_public(r) for r in found]


@router.get("/messages/{message_id}", response_model=MessagePublic)
def read_message(message_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> MessagePublic:
    try:
        row = messages.get_message(session, viewer, str(message_id))
    except messages.MessageNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such message") from None
    return _public(messages.message_record(row))


@router.post("/messages/{message_id}/acknowledge", response_model=MessagePublic)
def acknowledge(message_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> MessagePublic:
    """The recipient has read it and will call back."""
    return _step(session, viewer, message_id, "acknowledge", {})


@router.post("/messages/{message_id}/called-back", response_model=MessagePublic)
def called_back(
    message_id: uuid.UUID, body: CalledBackIn, session: SessionDep, viewer: ViewerDep
) -> MessagePublic:
    """The caller was called back: with what came of it."""
    return _step(session, viewer, message_id, "called_back", body.model_dump(exclude_none=True))


@router.post("/messages/{message_id}/hand-on", response_model=MessagePublic)
def hand_on(
    message_id: uuid.UUID, body: HandOnIn, session: SessionDep, viewer: ViewerDep
) -> MessagePublic:
    """Give the message to another colleague or team, with a note why."""
    return _step(session, viewer, message_id, "hand_on", body.model_dump(exclude_none=True))


@router.get("/escalations", response_model=list[EscalationPublic])
def list_escalations(session: SessionDep, viewer: ViewerDep) -> list[EscalationPublic]:
    """Callbacks and promises past their time and not done, longest overdue first: a
    supervisor sees everyone's, others their own."""
    return [
        EscalationPublic(
            kind=e.kind,
            id=e.id,
            owner=e.owner,
            what=e.what,
            due_at=e.due_at.isoformat(),
            late_s=round(e.late_s, 1),
            record_id=e.record_id,
        )
        for e in messages.escalated(session, viewer, utcnow())
    ]
