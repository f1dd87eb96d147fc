from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agentdesk.server import customers
from agentdesk.server.api.deps import SessionDep, SettingsDep, ViewerDep
from agentdesk.wire import MAX_SEQ, ChangesPage, PushRequest, PushResponse

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])


@router.get("/changes", response_model=ChangesPage)
def changes(
    session: SessionDep,
    viewer: ViewerDep,
    settings: SettingsDep,
    since: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
) -> ChangesPage:
    """Records changed after ``since`` that the user may see, in change order, a page at a time."""
    return customers.changes_page(session, viewer, since, min(limit, settings.page_limit_max))


@router.post("/push", response_model=PushResponse)
def push(body: PushRequest, session: SessionDep, viewer: ViewerDep) -> PushResponse:
    """Apply a batch of mutations, each at most once; answers per mutation."""
    results = [customers.apply_mutation(session, viewer, body.device_id, m) for m in body.mutations]
    session.commit()
    return PushResponse(results=results)
