"""Slowing password guessing: failed sign-ins are counted per user name and per address.

After ``FREE_FAILURES`` failures within ``WINDOW`` a key is locked, for ``BASE_LOCK`` at first
and twice as long after each further failure (up to ``MAX_LOCK``). While locked, sign-in
answers 429 with ``Retry-After``, even with the right password, and the same for user names
that do not exist (so the answer does not tell who has an account). A successful sign-in
clears the user name's count. The counts live in the database, so every server process
sees them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.server.contacts import aware
from agentdesk.server.models import LoginFailure, utcnow

FREE_FAILURES: Final = 5
#: An address may fail more often: a whole office can sign in through one.
FREE_FAILURES_PER_ADDRESS: Final = 25
WINDOW: Final = dt.timedelta(minutes=15)
BASE_LOCK: Final = dt.timedelta(seconds=30)
MAX_LOCK: Final = dt.timedelta(minutes=15)


def keys(username: str, address: str | None) -> list[tuple[str, int]]:
    found = [(f"user:{username.strip().lower()[:150]}", FREE_FAILURES)]
    if address:
        found.append((f"ip:{address[:150]}", FREE_FAILURES_PER_ADDRESS))
    return found


def wait_seconds(session: Session, username: str, address: str | None) -> int:
    """Seconds until a sign-in may be tried again (0: now)."""
    now = utcnow()
    waits = [0.0]
    for key, _free in keys(username, address):
        row = session.get(LoginFailure, key)
        if row is not None and row.locked_until is not None:
            waits.append((aware(row.locked_until) - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def failed(session: Session, username: str, address: str | None) -> None:
    """Count a failed sign-in; lock the key once it has failed too often."""
    now = utcnow()
    for key, free in keys(username, address):
        row = session.scalar(select(LoginFailure).where(LoginFailure.key == key).with_for_update())
        if row is None:
            row = LoginFailure(key=key, count=0, first_at=now)
            session.add(row)
        elif now - aware(row.first_at) > WINDOW and (
            row.locked_until is None or aware(row.locked_until) <= now
        ):
            row.count, row.first_at = 0, now
        row.count += 1
        over = row.count - free + 1
        if over > 0:
            lock = min(MAX_LOCK, BASE_LOCK * (2 ** (over - 1)))
            row.locked_until = now + lock
    session.flush()


def succeeded(session: Session, username: str) -> None:
    row = session.get(LoginFailure, keys(username, None)[0][0])
    if row is not None:
        session.delete(row)
        session.flush()
