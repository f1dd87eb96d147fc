"""A signed-in desk: the API client, the local store and the sync engine, seen from Qt.

The core reports through plain callbacks; this object turns them into Qt signals so views
can listen without knowing the core.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdesk.credentials import TokenVault
from agentdesk.domain.contacts import Actor
from agentdesk.paths import desk_store_path
from agentdesk.store.local import LocalStore
from agentdesk.store.runner import StoreRunner
from agentdesk.sync.client import ApiClient, Offline, ServerEvent
from agentdesk.sync.engine import SyncEngine, SyncStatus
from agentdesk.sync.events import EventListener
from agentdesk.wire import UserPublic
from ui.qt import QtCore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignIn:
    """What the agent typed in the sign-in dialog."""

    server: str
    username: str
    password: str
    remember: bool


class DeskSession(QtCore.QObject):
    """Everything one signed-in user's desk works with.

    Signals:
        status_changed(SyncStatus): the sync engine's state changed.
        records_changed(set[str]): sheets changed in the local store by sync.
        signed_out(): the session ended.
        answers_published(): a supervisor published a standard answer.
        contact_heard(dict): the server announced a change of this contact (as the event
            carried it); the pull the event starts stores it shortly after.
    """

    status_changed = QtCore.Signal(object)
    records_changed = QtCore.Signal(object)
    signed_out = QtCore.Signal()
    answers_published = QtCore.Signal()
    contact_heard = QtCore.Signal(object)

    def __init__(
        self,
        *,
        server: str,
        user: UserPublic,
        client: ApiClient,
        runner: StoreRunner,
        vault: TokenVault,
        remember: bool,
        online: bool = True,
    ) -> None:
        super().__init__()
        self.server = server
        self.user = user
        self.client = client
        self.runner = runner
        self.vault = vault
        self.remember = remember
        self.started_offline = not online
        self._closed = False
        self.engine = SyncEngine(runner, client)
        # Events say that something changed on the server; the pull fetches what.
        self.listener = EventListener(client, self._heard)
        self.engine.on_status(self.status_changed.emit)
        self.engine.on_records_changed(self.records_changed.emit)

    @property
    def actor(self) -> Actor:
        """The signed-in user as the author of the desk's steps."""
        user = self.user
        return Actor(
            user_id=user.id,
            username=user.username,
            full_name=user.full_name,
            supervisor=user.role in ("supervisor", "admin"),
            department=user.department or "",
        )

    @property
    def store(self) -> LocalStore:
        return self.runner.store

    @property
    def status(self) -> SyncStatus:
        return self.engine.status

    def start(self) -> None:
        self.engine.start()
        self.listener.start()

    def _heard(self, event: ServerEvent) -> None:
        kinds = ("changes", "contact", "message", "visit", "attempt", "assignment", "malformed")
        if event.kind in kinds:
            if event.kind == "contact" and event.data.get("id"):
                # First, so that a screen pop's read of the sheet is ahead of the pull's.
                self.contact_heard.emit(event.data)
            self.engine.wake()
        elif event.kind == "answers":
            self.answers_published.emit()

    def wake_sync(self) -> None:
        self.engine.wake()

    async def close(self, *, sign_out: bool = False) -> None:
        """Stop syncing and release the store; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self.listener.stop()
        await self.engine.stop()
        if sign_out:
            await self.client.logout()
            if _SAVING:
                await asyncio.gather(*_SAVING, return_exceptions=True)
            await asyncio.to_thread(self.vault.forget, self.server, self.user.username)
        await self.client.aclose()
        await asyncio.to_thread(self.runner.close)
        if sign_out:
            self.signed_out.emit()


class _Hidden:
    """A secret on its way back from a worker thread, which may log what it returns."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


def _saver(vault: TokenVault, server: str, username: str) -> Callable[[str], None]:
    """Keep every renewed refresh token, off the GUI thread (a keyring may be slow)."""

    def save(token: str) -> None:
        loop = asyncio.get_running_loop()
        # A closure, not arguments: an executor that logs its calls never sees the token.
        saving = loop.run_in_executor(None, lambda: vault.save(server, username, token))
        _SAVING.add(saving)
        saving.add_done_callback(_SAVING.discard)

    return save


#: Keyring writes under way; signing out waits for them, so none lands after the forget.
_SAVING: set[asyncio.Future[Any]] = set()


async def _open_store(server: str, username: str) -> StoreRunner:
    store = await asyncio.to_thread(LocalStore, desk_store_path(server, username))
    return StoreRunner(store)


async def sign_in(form: SignIn, vault: TokenVault) -> DeskSession:
    """Sign in with a password; raises the client's errors for the dialog to show."""
    server = form.server.rstrip("/")
    saver = _saver(vault, server, form.username) if form.remember else None
    client = ApiClient(server, on_refresh_token=saver)
    try:
        user = await client.login(form.username, form.password)
    except BaseException:
        await client.aclose()
        raise
    runner = await _open_store(server, user.username)
    await runner.write(runner.store.set_meta, "user", user.model_dump_json())
    return DeskSession(
        server=server,
        user=user,
        client=client,
        runner=runner,
        vault=vault,
        remember=form.remember,
    )


async def resume(server: str, username: str, vault: TokenVault) -> DeskSession | None:
    """Sign in again with a remembered token; offline, open the local store as last seen.

    Returns None when nothing is remembered or the server no longer accepts the token.
    """
    server = server.rstrip("/")
    kept = await asyncio.to_thread(lambda: _Hidden(vault.load(server, username)))
    token = kept.value
    if not token:
        return None
    client = ApiClient(server, on_refresh_token=_saver(vault, server, username))
    online = True
    try:
        user = await client.resume(token)
    except Offline:
        client.refresh_token = token
        runner = await _open_store(server, username)
        cached = await runner.read(runner.store.meta, "user")
        if not cached:
            await client.aclose()
            await asyncio.to_thread(runner.close)
            raise
        user = UserPublic.model_validate(json.loads(cached))
        online = False
    except Exception:
        await client.aclose()
        await asyncio.to_thread(vault.forget, server, username)
        return None
    else:
        runner = await _open_store(server, username)
        await runner.write(runner.store.set_meta, "user", user.model_dump_json())
    return DeskSession(
        server=server,
        user=user,
        client=client,
        runner=runner,
        vault=vault,
        remember=True,
        online=online,
    )
