"""The FastAPI application of the central service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import event
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentdesk import __version__
from agentdesk.domain.errors import ValidationFailed
from agentdesk.server.api.limits import RequestGuard, document_errors
from agentdesk.server.api.routes import (
    auth,
    customers,
    departments,
    events,
    health,
    messages,
    sync,
    telephony,
    training,
    visits,
)
from agentdesk.server.config import ServerSettings
from agentdesk.server.customers import Conflict, Forbidden, NotFound
from agentdesk.server.db import make_engine, migrate, session_factory
from agentdesk.server.events import EventFeed, EventHub, listen_postgres, notify_after_commit

#: What the framework says of a body it cannot decode.
UNPARSEABLE = "There was an error parsing the body"


def _field_errors(failed: ValidationFailed) -> list[dict[str, object]]:
    return [
        {"loc": ["body", e.field], "field": e.field, "msg": e.message, "type": "value_error"}
        for e in failed.errors
    ]


def create_app(settings: ServerSettings, *, run_migrations: bool = True) -> FastAPI:
    """Build the app; migrations run first so a new database is ready on start."""
    engine = make_engine(settings.db_url)
    if run_migrations:
        migrate(engine)
    sessions = session_factory(engine)
    hub = EventHub()
    # Streams of this process wake as soon as a transaction that recorded events commits.
    event.listen(sessions, "after_commit", lambda s: notify_after_commit(s, hub))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        listener = None
        if engine.dialect.name == "postgresql":
            listener = asyncio.create_task(
                listen_postgres(settings.db_url, hub), name="event-listener"
            )
        try:
            yield
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    app = FastAPI(
        title="AgentDesk", version=__version__, openapi_url="/openapi.json", lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.event_hub = hub
    # One read of new events per wake, shared by every stream of this process.
    app.state.event_feed = EventFeed(sessions, hub)

    @app.exception_handler(ValidationFailed)
    async def _invalid(_: Request, exc: ValidationFailed) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": _field_errors(exc)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == status.HTTP_400_BAD_REQUEST and detail == UNPARSEABLE:
            detail = "The request body is not valid JSON in UTF-8"
        return JSONResponse(
            status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
        )

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={
                "detail": "The sheet was changed since your version: reload and edit again",
                "fields": exc.fields,
                "current": exc.current,
            },
        )

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": "Not found"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_403_FORBIDDEN,
            content={"detail": "Your role may not do this"},
        )

    for router in (
        health.router,
        auth.router,
        customers.router,
        sync.router,
        departments.router,
        departments.directory_router,
        telephony.router,
        events.router,
        messages.router,
        visits.router,
        training.router,
    ):
        app.include_router(router)
    app.add_middleware(RequestGuard, max_bytes=settings.max_body_bytes)
    document_errors(app, throttled=("/api/v1/auth/login",))
    return app
