"""The desk renews an expired access token by itself, and stops, keeping its edits,
when the saved sign-in is no longer valid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from agentdesk.sync.engine import SyncState
from tests.conftest import SECRET, LiveServer
from tests.server.conftest import create_sheet, read_sheet
from tests.sync.conftest import Desk, DeskFactory, state_is, wait_until

SheetFactory = Callable[..., dict[str, Any]]


def _expired_access_token(desk: Desk) -> str:
    assert desk.client.user is not None
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    claims = {
        "sub": desk.client.user.id,
        "role": desk.client.user.role,
        "iat": past - dt.timedelta(minutes=15),
        "exp": past,
        "typ": "access",
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def test_expired_access_token_is_renewed_and_the_new_refresh_token_saved(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    with live_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    desk = await open_desk(live_server)
    await desk.engine.sync_once()
    signed_in_with = desk.client.refresh_token
    assert desk.saved_refresh_tokens == [signed_in_with]
    await desk.save_edit(sheet["id"], {"location": "Etter fornyelse"})
    desk.client.access_token = _expired_access_token(desk)

    # When
    await desk.engine.sync_once()

    # Then
    assert desk.engine.status.state is SyncState.UP_TO_DATE
    assert len(desk.saved_refresh_tokens) == 2
    assert desk.saved_refresh_tokens[-1] == desk.client.refresh_token != signed_in_with
    with live_server.http("agent") as http:
        assert read_sheet(http, sheet["id"])["location"] == "Etter fornyelse"
    reused = httpx.post(
        f"{live_server.url}/api/v1/auth/refresh", json={"refresh_token": signed_in_with}
    )
    assert reused.status_code == 401


async def test_garbage_access_token_is_renewed_transparently(
    live_server: LiveServer, open_desk: DeskFactory
) -> None:
    # Given
    desk = await open_desk(live_server)
    desk.client.access_token = "garbage"

    # When
    await desk.engine.sync_once()

    # Then
    assert desk.engine.status.state is SyncState.UP_TO_DATE
    assert desk.client.access_token != "garbage"
    assert len(desk.saved_refresh_tokens) == 2


async def test_revoked_sign_in_asks_to_sign_in_and_keeps_the_outbox(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given: the saved sign-in was revoked (signed out elsewhere) and the access token expired
    with live_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    desk = await open_desk(live_server)
    await desk.engine.sync_once()
    revoked = httpx.post(
        f"{live_server.url}/api/v1/auth/logout",
        json={"refresh_token": desk.client.refresh_token},
    )
    assert revoked.status_code == 204
    desk.client.access_token = _expired_access_token(desk)
    await desk.save_edit(sheet["id"], {"location": "Venter på innlogging"})

    # When
    task = desk.engine.start()

    # Then
    await wait_until(state_is(desk, SyncState.SIGN_IN_REQUIRED), "the sign-in request")
    await wait_until(task.done, "the engine to stop")
    assert desk.engine.status.pending == 1
    assert desk.store.outbox_counts().pending == 1
    local = desk.store.customer(sheet["id"])
    assert local is not None and local.location == "Venter på innlogging"
    with live_server.http("agent") as http:
        assert read_sheet(http, sheet["id"])["version"] == 1


async def test_signing_in_again_sends_the_kept_edit(
    live_server: LiveServer, open_desk: DeskFactory, customer_factory: SheetFactory
) -> None:
    # Given
    with live_server.http("agent") as http:
        sheet = create_sheet(http, customer_factory())
    desk = await open_desk(live_server)
    await desk.engine.sync_once()
    httpx.post(
        f"{live_server.url}/api/v1/auth/logout",
        json={"refresh_token": desk.client.refresh_token},
    )
    desk.client.access_token = "garbage"
    await desk.save_edit(sheet["id"], {"location": "Etter ny innlogging"})
    await wait_until(desk.engine.start().done, "the engine to give up")
    assert desk.engine.status.state is SyncState.SIGN_IN_REQUIRED

    # When
    account = live_server.accounts["agent"]
    await desk.client.login(account.username, account.password)
    desk.engine.start()

    # Then
    await wait_until(state_is(desk, SyncState.UP_TO_DATE, pending=0), "the kept edit to go")
    with live_server.http("agent") as http:
        stored = read_sheet(http, sheet["id"])
    assert (stored["location"], stored["version"]) == ("Etter ny innlogging", 2)
