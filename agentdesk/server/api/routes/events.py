from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from agentdesk.server.accounts import Viewer, viewer_for
from agentdesk.server.config import ServerSettings
from agentdesk.server.events import EventFeed, EventHub, stream
from agentdesk.server.models import User
from agentdesk.server.security import decode_access_token
from agentdesk.wire import MAX_SEQ

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/events", response_class=StreamingResponse)
async def events(
    request: Request,
    authorization: Annotated[str, Header()] = "",
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="resume after this event id")
    ] = None,
    heartbeat: Annotated[
        float, Query(ge=1, le=60, description="seconds between keep-alive comments")
    ] = 15,
) -> StreamingResponse:
    """Server-sent events: new and changed contacts, and "changes" pokes that call for a pull.

    Resume with the ``Last-Event-ID`` header (or ``since``); without either the stream
    starts with events from now on.
    """
    settings: ServerSettings = request.app.state.settings
    sessions: sessionmaker[Session] = request.app.state.sessions
    hub: EventHub = request.app.state.event_hub
    feed: EventFeed = request.app.state.event_feed
    scheme, _, token = authorization.partition(" ")
    claims = (
        decode_access_token(token.strip(), secret=settings.secret_key)
        if (scheme.lower() == "bearer")
        else None
    )

    def who() -> Viewer | None:
        # A short session of its own, in a worker thread: a stream must not hold the
        # database, and the event loop must never wait for it.
        with sessions() as session:
            user = session.get(User, claims.user_id) if claims else None
            return viewer_for(user) if user is not None and user.active else None

    viewer = await asyncio.to_thread(who)
    if viewer is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not signed in, or the session has expired: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    resume = since
    if last_event_id is not None:
        try:
            resume = int(last_event_id)
            if not 0 <= resume <= MAX_SEQ:
                raise ValueError(last_event_id)
        except ValueError:
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=[{"field": "Last-Event-ID", "msg": "must be an event id (a number)"}],
            ) from None
    return StreamingResponse(
        stream(
            sessions,
            hub,
            viewer,
            resume,
            feed=feed,
            poll_s=settings.event_poll_s,
            heartbeat_s=heartbeat,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
