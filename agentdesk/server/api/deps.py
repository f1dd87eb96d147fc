"""Dependencies every route shares: the database session and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from agentdesk.server.accounts import Viewer, viewer_for
from agentdesk.server.config import ServerSettings
from agentdesk.server.models import User
from agentdesk.server.security import decode_access_token

_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    # Routes that write commit before they answer; anything not committed is rolled back.
    with factory() as session:
        yield session


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]


def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    unauthorised = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Not signed in, or the session has expired: sign in again",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None:
        raise unauthorised
    claims = decode_access_token(credentials.credentials, secret=settings.secret_key)
    if claims is None:
        raise unauthorised
    user = session.get(User, claims.user_id)
    if user is None or not user.active:
        raise unauthorised
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_viewer(user: CurrentUser) -> Viewer:
    return viewer_for(user)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
