"""Tokens live in the OS keyring only: after a whole session (sign-in with "remember me",
sync, a token renewal, sign-out) no token or password is in the desk's data folder, its
configuration or its log; signing out revokes the refresh token on the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.credentials import TokenVault
from agentdesk.logs import log_path, mask_secrets, start_desk_log
from agentdesk.sync.engine import SyncState
from tests.conftest import LiveServer
from tests.ui.conftest import until
from ui.app import Desk
from ui.desk_session import SignIn, sign_in

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def test_a_whole_session_leaves_no_token_on_disk_and_sign_out_revokes(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTDESK_SOUND", "off")
    account = sqlite_server.accounts["agent"]
    seen: set[str] = set()
    saved = vault.save

    def keep(server: str, username: str, token: str) -> None:
        seen.add(token)
        saved(server, username, token)

    monkeypatch.setattr(vault, "save", keep)

    async def scenario() -> None:
        handler = start_desk_log(logging.DEBUG)  # as verbose as the desk's log ever gets
        try:
            desk = Desk(vault)
            form = SignIn(sqlite_server.url, account.username, account.password, remember=True)
            session = await sign_in(form, vault)
            client = session.client
            seen.update({str(client.access_token), str(client.refresh_token)})
            work = asyncio.ensure_future(desk._work(session))
            await until(lambda: session.status.state is SyncState.UP_TO_DATE, "the first sync")
            # A renewal, as when the access token runs out
            await client._renew(client.access_token)
            seen.update({str(client.access_token), str(client.refresh_token)})
            await session.engine.sync_once()
            last_refresh = str(client.refresh_token)
            assert desk.window is not None
            desk.window.sign_out_requested.emit()
            assert await work is True
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()
        # Signing out revoked the last refresh token, and the keyring forgot it
        async with httpx.AsyncClient(base_url=sqlite_server.url) as http:
            again = await http.post("/api/v1/auth/refresh", json={"refresh_token": last_refresh})
        assert again.status_code == 401
        assert vault.load(sqlite_server.url, account.username) is None

    run(scenario())
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    names = {p.name for p in files}
    # The session wrote its store, its preferences and its log…
    assert any(n.endswith(".sqlite") for n in names) and "desk.ini" in names
    assert log_path().stat().st_size > 0
    # …and none of them holds a token or the password
    secrets = [s for s in seen if s and s != "None"] + [account.password]
    # Two refresh tokens and at least one access token (two issued in the same second are
    # the same token)
    assert len(seen) >= 3
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            where = [line[:300] for line in content.split(b"\n") if secret.encode() in line]
            assert not where, f"{path.name} holds a secret: {where[:3]}"


def test_the_log_masks_anything_shaped_like_a_secret() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    line = (
        f"Authorization: Bearer {jwt} refresh_token=abcDEF123 "
        '{"password": "hunter2-secret"} token: zzz999'
    )
    masked = mask_secrets(line)
    for secret in (jwt, "abcDEF123", "hunter2-secret", "zzz999"):
        assert secret not in masked
    assert masked.count("[hidden]") >= 4
