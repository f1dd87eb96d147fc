from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

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
) -> Response:
    """Records changed after ``since`` that the user may see, in change order, a page at a time."""
    page = customers.changes_page(session, viewer, since, min(limit, settings.page_limit_max))
    # Already a ChangesPage in JSON (see changes_page): sent as it is.
    return Response(content=page, media_type="application/json")


@router.post("/push", response_model=PushResponse)
def push(body: PushRequest, session: SessionDep, viewer: ViewerDep) -> Response:
    """Apply a batch of mutations, each at most once; answers per mutation."""
    results = customers.apply_batch(session, viewer, body.device_id, body.mutations)
    session.commit()
    # Built as a PushResponse already: sent as it is, not checked against it once more.
    return Response(
        content=PushResponse(results=results).model_dump_json(), media_type="application/json"
    )
