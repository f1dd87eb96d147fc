"""Engineers' visits over REST: schedule one, list them, read one.

Desks carry out the steps on site through the sync push, so work done offline is sent later;
these routes serve scheduling from any client, and reading.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from agentdesk.server import visits
from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.server.models import Visit
from agentdesk.wire import Mutation, VisitIn

router = APIRouter(prefix="/api/v1/visits", tags=["visits"])


@router.post("", status_code=status.HTTP_201_CREATED)
def schedule_visit(body: VisitIn, session: SessionDep, viewer: ViewerDep) -> dict[str, Any]:
    """Schedule a visit: customer, computer, fault, time window and engineer (user name).
    Every missing or invalid field is named in the 422 answer."""
    visit_id = body.id or uuid.uuid4()
    existing = session.get(Visit, str(visit_id))
    if existing is not None and visits.may_see(viewer, existing):
        return visits.visit_record(existing)  # the same request again: the visit scheduled
    mutation = Mutation(
        id=uuid.uuid4(),
        entity="visit",
        entity_id=visit_id,
        op="create",
        base_version=0,
        fields=body.model_dump(exclude={"id"}, exclude_none=True),
    )
    row = visits.apply_visit_mutation(session, viewer, mutation)
    session.commit()
    return visits.visit_record(row)


@router.get("")
def list_visits(
    session: SessionDep,
    viewer: ViewerDep,
    mine: bool = False,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """Visits you may see (yours as the engineer, your department's; all for supervisors),
    in time order. ``mine``: only yours."""
    return visits.list_visits(session, viewer, mine=mine, customer_id=customer_id, limit=limit)


@router.get("/{visit_id}")
def read_visit(visit_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> dict[str, Any]:
    try:
        return visits.visit_record(visits.get_visit(session, viewer, str(visit_id)))
    except visits.VisitNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such visit") from None
