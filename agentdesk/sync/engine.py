"""The sync engine: drains the outbox to the server and pulls what changed, forever.

It runs on any asyncio loop (the desk's qasync loop, a test's loop, the command line) and
reports its state to whoever listens; it never touches a widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from agentdesk.store.local import LocalStore
from agentdesk.store.runner import StoreRunner
from agentdesk.sync.client import ApiClient, ApiError, Offline, ServerTrouble, SignInRequired
from agentdesk.wire import FieldErrorOut, Mutation, MutationResult, PushResponse

log = logging.getLogger(__name__)


class SyncState(enum.Enum):
    OFFLINE = "offline"
    SYNCING = "syncing"
    UP_TO_DATE = "up to date"
    SERVER_ERROR = "server error"
    SIGN_IN_REQUIRED = "sign-in required"


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    state: SyncState = SyncState.SYNCING
    pending: int = 0
    conflicts: int = 0
    rejected: int = 0
    #: Changes from the server that could not be read and were skipped.
    unreadable: int = 0
    detail: str = ""
    retry_in: float | None = None
    #: (done, total) records of a pull that has more pages; None when not pulling pages.
    progress: tuple[int, int] | None = None
    last_synced: dt.datetime | None = None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ``base·2ⁿ`` capped at ``cap``, drawn from its upper half."""

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return rng.uniform(ceiling / 2, ceiling)


StatusListener = Callable[[SyncStatus], None]
ChangeListener = Callable[[set[str]], None]


async def _discard(future: asyncio.Future[Any] | None) -> None:
    """Let a read started ahead finish, and drop what it read."""
    if future is not None:
        with contextlib.suppress(Exception):
            await future


def _too_large(mutation: Mutation) -> MutationResult:
    return MutationResult(
        id=str(mutation.id),
        status="rejected",
        entity_id=str(mutation.entity_id),
        errors=[
            FieldErrorOut(
                field="record",
                message="is larger than the server accepts: shorten the longest text",
            )
        ],
    )


class SyncEngine:
    """Pushes local edits and pulls server changes for one signed-in desk."""

    def __init__(
        self,
        runner: StoreRunner,
        client: ApiClient,
        *,
        push_batch: int = 500,
        page_size: int = 2000,
        poll_interval: float = 30.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.runner = runner
        self.client = client
        self.push_batch = push_batch
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._status = SyncStatus()
        self._status_listeners: list[StatusListener] = []
        self._change_listeners: list[ChangeListener] = []
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    # --- listening ----------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        return self._status

    def on_status(self, listener: StatusListener) -> None:
        self._status_listeners.append(listener)
        listener(self._status)

    def on_records_changed(self, listener: ChangeListener) -> None:
        """``listener`` gets the ids of sheets the server changed or answered for."""
        self._change_listeners.append(listener)

    def _report(self, **changes: object) -> None:
        self._status = replace(self._status, **changes)  # type: ignore[arg-type]
        for listener in list(self._status_listeners):
            listener(self._status)

    def _changed(self, ids: set[str]) -> None:
        if ids:
            for listener in list(self._change_listeners):
                listener(ids)

    async def _report_counts(self, **changes: object) -> None:
        counts = await self.runner.read(LocalStore.outbox_counts, self.runner.store)
        unreadable = await self.runner.read(LocalStore.unreadable_changes, self.runner.store)
        self._report(
            pending=counts.pending,
            conflicts=counts.conflicts,
            rejected=counts.rejected,
            unreadable=len(unreadable),
            **changes,
        )

    # --- running ------------------------------------------------------------------------

    def wake(self) -> None:
        """Sync now: a local edit was saved, or the server said there is news."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="sync-engine")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                # Stopped in the middle of a request, the HTTP stack may complain while it
                # drops the connection. Nothing is lost: unsent work stays in the outbox.
                log.debug("sync engine ended with an error while stopping", exc_info=True)
            self._task = None

    async def run(self) -> None:
        """Sync, then wait for a wake-up or the poll interval; back off while failing."""
        while True:
            self._wake.clear()
            wait = await self._attempt()
            if wait is None:
                return
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives together
            # with a wake-up, and stop() would then wait for a task that never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _attempt(self) -> float | None:
        """One sync; returns how long to wait before the next, None to stop."""
        try:
            await self.sync_once()
        except SignInRequired as exc:
            await self._report_counts(
                state=SyncState.SIGN_IN_REQUIRED, detail=str(exc), progress=None, retry_in=None
            )
            return None
        except (Offline, ServerTrouble) as exc:
            delay = self.backoff.delay(self._failures, self._rng)
            self._failures += 1
            if isinstance(exc, ServerTrouble):
                state, delay = SyncState.SERVER_ERROR, max(delay, exc.retry_after or 0)
                detail = f"the server answered {exc.status}"
            else:
                state, detail = SyncState.OFFLINE, "the server cannot be reached"
            log.info("sync failed (%s); retrying in %.1f s", exc, delay)
            await self._report_counts(state=state, detail=detail, retry_in=delay, progress=None)
            return delay
        self._failures = 0
        return self.poll_interval

    async def sync_once(self) -> None:
        """Push every pending edit, then pull every page of changes."""
        await self._report_counts(state=SyncState.SYNCING, detail="", retry_in=None)
        await self.push_all()
        await self.pull_all()
        await self._report_counts(
            state=SyncState.UP_TO_DATE,
            detail="",
            progress=None,
            last_synced=dt.datetime.now(dt.UTC),
        )

    async def push_all(self) -> int:
        """Send the outbox in batches until it is empty; returns how many were answered.

        A batch is sent once the server has answered the one before (so the server applies
        them in order), while the desk is still storing that answer; the next batch is read
        while one is on its way. The desk's work and the server's overlap. An answer that
        holds back a record (a conflict, a refusal) is stored before anything more is read,
        and a batch read ahead of it is read again, so the record's later steps wait.
        """
        store = self.runner.store
        device_id = await self.runner.read(store.meta, "device_id") or ""
        sent = 0
        size = self.push_batch
        settling: asyncio.Future[set[str]] | None = None
        answered: list[str] = []  # the ids of the answer being stored
        ahead: asyncio.Future[list[Mutation]] | None = None  # the next batch, being read

        async def settled() -> None:
            nonlocal settling
            if settling is not None:
                touched, settling = await settling, None
                answered.clear()
                self._changed(touched)
                await self._report_counts()

        try:
            while True:
                if ahead is not None:
                    batch, ahead = await ahead, None
                else:
                    batch = await self.runner.read(store.pending_mutations, size, tuple(answered))
                if not batch:
                    if settling is None:
                        return sent
                    await settled()
                    continue  # anything saved meanwhile goes too
                marked = asyncio.ensure_future(
                    self.runner.write(store.mark_attempt, [str(m.id) for m in batch])
                )
                ahead = asyncio.ensure_future(
                    self.runner.read(
                        store.pending_mutations,
                        self.push_batch,
                        (*answered, *(str(m.id) for m in batch)),
                    )
                )
                try:
                    response = await self.client.push(device_id, batch)
                except ApiError as exc:
                    await _discard(ahead)
                    ahead = None
                    if exc.status != 413:
                        # The whole batch was refused as malformed; keep it and say so.
                        raise ServerTrouble(exc.status) from exc
                    if len(batch) > 1:
                        size = max(1, len(batch) // 2)  # too large together: send fewer
                        continue
                    # One record larger than the server takes: kept here, marked, and named.
                    response = PushResponse(results=[_too_large(batch[0])])
                finally:
                    await marked
                await settled()
                size = self.push_batch  # the next batch may fit again whole
                sent += len(response.results)
                answered.extend(result.id for result in response.results)
                settling = asyncio.ensure_future(
                    self.runner.write(store.apply_push_results, response.results)
                )
                if any(r.status not in ("applied", "duplicate") for r in response.results):
                    await settled()
                    await _discard(ahead)
                    ahead = None
        finally:
            await _discard(ahead)
            # Offline or refused midway: what was answered is stored all the same.
            await settled()

    async def pull_all(self) -> int:
        """Fetch pages of changes since the saved cursor until there are no more.

        While one page is being stored, the next is already on its way. The cursor is saved
        with each page stored, so a failure on the way loses nothing: the next pull starts
        after the last page stored.
        """
        store = self.runner.store
        received = 0
        page = await self.client.changes(await self.runner.read(store.cursor), self.page_size)
        while True:
            ahead = (
                asyncio.ensure_future(self.client.changes(page.cursor, self.page_size))
                if page.has_more
                else None
            )
            try:
                touched = await self.runner.write(store.apply_changes, page)
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                    await asyncio.gather(ahead, return_exceptions=True)
                raise
            received += len(page.changes)
            self._changed(touched)
            if ahead is None:
                return received
            self._report(progress=(received, received + page.remaining))
            page = await ahead
