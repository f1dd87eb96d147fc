"""Slowing password guessing: sign-in attempts are counted per user name and per address.

Each attempt is counted *before* its password is checked, under a row lock, so attempts
sent at once are counted one after the other and none slips past a lock. After
``FREE_FAILURES`` attempts within ``WINDOW`` a key is locked, for ``BASE_LOCK`` at first and
twice as long after each further attempt (up to ``MAX_LOCK``). While locked, sign-in answers
429 with ``Retry-After``, even with the right password, and the same for user names that do
not exist (so the answer does not tell who has an account). A successful sign-in clears the
user name's count and takes its attempt off the address's. The counts live in the
database, so every server process sees them; old ones are swept.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from agentdesk.server.models import LoginFailure, utcnow

FREE_FAILURES: Final = 5
#: An address may fail more often: a whole office can sign in through one.
FREE_FAILURES_PER_ADDRESS: Final = 25
WINDOW: Final = dt.timedelta(minutes=15)
BASE_LOCK: Final = dt.timedelta(seconds=30)
MAX_LOCK: Final = dt.timedelta(minutes=15)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def keys(username: str, address: str | None) -> list[tuple[str, int]]:
    found = [(f"user:{username.strip().lower()[:150]}", FREE_FAILURES)]
    if address:
        found.append((f"ip:{address[:150]}", FREE_FAILURES_PER_ADDRESS))
    return found


def _row(session: Session, key: str, now: dt.datetime) -> LoginFailure:
    """The key's row, created if need be, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        make(LoginFailure)
        .values(key=key, count=0, first_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalar(
        select(LoginFailure)
        .where(LoginFailure.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def attempt(session: Session, username: str, address: str | None) -> int:
    """Count one sign-in attempt; returns the seconds to wait (0: check the password now).
    The caller commits, whatever it answers."""
    now = utcnow()
    # Sweep what no longer counts, so guessed names do not pile up.
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.first_at < now - WINDOW,
            or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now),
        )
    )
    wait = 0.0
    for key, free in keys(username, address):
        row = _row(session, key, now)
        locked = row.locked_until is not None and _aware(row.locked_until) > now
        if locked:
            assert row.locked_until is not None
            wait = max(wait, (_aware(row.locked_until) - now).total_seconds())
            continue
        if now - _aware(row.first_at) > WINDOW:
            row.count, row.first_at, row.locked_until = 0, now, None
        row.count += 1
        over = row.count - free + 1
        if over > 0:
            row.locked_until = now + min(MAX_LOCK, BASE_LOCK * (2 ** (over - 1)))
    session.flush()
    return max(0, math.ceil(wait))


def wait_seconds(session: Session, username: str, address: str | None) -> int:
    """Seconds until a sign-in may be tried again (0: now)."""
    now = utcnow()
    waits = [0.0]
    for key, _free in keys(username, address):
        row = session.get(LoginFailure, key, populate_existing=True)
        if row is not None and row.locked_until is not None:
            waits.append((_aware(row.locked_until) - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def succeeded(session: Session, username: str, address: str | None) -> None:
    """A right password: the name starts afresh, and the address's count forgets this one."""
    user_key, _free = keys(username, None)[0]
    session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    if address:
        row = session.get(LoginFailure, keys(username, address)[1][0])
        if row is not None and row.count > 0 and row.locked_until is None:
            row.count -= 1
    session.flush()
