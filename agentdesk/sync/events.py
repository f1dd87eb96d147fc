"""The desk's ear on the server: follows the event stream and never misses an event.

It keeps the id of the last event it handled and resumes after it when the connection
drops, backing off while the server is unreachable. What an event means is up to whoever
listens (the sync engine pulls on "changes" and "contact").
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from agentdesk.sync.client import ApiClient, Offline, ServerEvent, ServerTrouble, SignInRequired
from agentdesk.sync.engine import Backoff

log = logging.getLogger(__name__)

EventHandler = Callable[[ServerEvent], None]


class EventListener:
    """Follows ``GET /api/v1/events`` for one signed-in desk."""

    def __init__(
        self,
        client: ApiClient,
        on_event: EventHandler,
        *,
        last_event_id: int | None = None,
        backoff: Backoff | None = None,
        heartbeat: float = 15.0,
        on_connected: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.last_event_id = last_event_id
        self.backoff = backoff or Backoff()
        self.heartbeat = heartbeat
        self.on_connected = on_connected
        self._rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None
        #: Garbled events received and skipped.
        self.malformed = 0

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="event-listener")

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
                log.debug("event listener ended with an error while stopping", exc_info=True)
            self._task = None

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                connected = False
                async for event in self.client.events(self.last_event_id, heartbeat=self.heartbeat):
                    if not connected and self.on_connected is not None:
                        self.on_connected()
                    connected = True
                    failures = 0
                    if event.kind == "malformed":
                        # Reported and skipped; the stream goes on. A pull picks up whatever
                        # it announced.
                        self.malformed += 1
                        log.warning("skipped a malformed event (%s)", event.data.get("problem"))
                    else:
                        self.last_event_id = event.id
                    if event.kind == "hello":
                        continue
                    try:
                        self.on_event(event)
                    except Exception:
                        log.exception("handling event %s failed; listening on", event.id)
                # The server ended the stream (restart, proxy timeout): resume, a little later
                # if it ends at once again.
                await asyncio.sleep(self.backoff.delay(failures, self._rng) if not connected else 0)
                failures += 0 if connected else 1
            except SignInRequired:
                log.info("event stream stopped: sign-in required")
                return
            except (Offline, ServerTrouble) as exc:
                delay = self.backoff.delay(failures, self._rng)
                failures += 1
                log.info("event stream lost (%s); reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)
