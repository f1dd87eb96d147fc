from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from agentdesk.server import accounts, throttle
from agentdesk.server.api.deps import CurrentUser, SessionDep, SettingsDep
from agentdesk.server.models import User
from agentdesk.server.security import create_access_token
from agentdesk.wire import LoginRequest, RefreshRequest, TokenPair, UserPublic

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _tokens(session: SessionDep, settings: SettingsDep, user: User) -> TokenPair:
    access = create_access_token(
        secret=settings.secret_key,
        user_id=user.id,
        role=user.role,
        minutes=settings.access_token_minutes,
    )
    refresh = accounts.issue_refresh_token(session, user, days=settings.refresh_token_days)
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
        user=accounts.public_user(session, user),
    )


@router.post("/login", response_model=TokenPair)
def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Sign in with user name and password; returns an access and a refresh token.
    Repeated failures lock the user name (and the address) for a while: 429 with
    Retry-After."""
    address = request.client.host if request.client else None
    # Counted before the password is checked: attempts sent at once cannot slip past a lock.
    wait = throttle.attempt(session, body.username, address)
    session.commit()
    if wait:
        raise _too_many(wait)
    user = accounts.authenticate(session, body.username, body.password)
    if user is None:
        wait = throttle.wait_seconds(session, body.username, address)
        if wait:
            raise _too_many(wait)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect user name or password",
        )
    throttle.succeeded(session, body.username, address)
    pair = _tokens(session, settings, user)
    session.commit()  # the refresh token (and any rehashed password) must outlive the request
    return pair


def _too_many(wait: int) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"Too many failed sign-ins: try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


@router.post("/refresh", response_model=TokenPair)
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Trade a refresh token (used once) for a new pair."""
    user = accounts.redeem_refresh_token(session, body.refresh_token)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="The saved sign-in has expired or was revoked: sign in again",
        )
    pair = _tokens(session, settings, user)
    session.commit()  # revokes the old token and keeps the new one, together
    return pair


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshRequest, session: SessionDep) -> None:
    accounts.revoke_refresh_token(session, body.refresh_token)
    session.commit()


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    return accounts.public_user(session, user)
