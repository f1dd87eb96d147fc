"""Engines, sessions and migrations of the server database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from agentdesk.server.models import SyncCounter

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://…``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Let SQLAlchemy, not the sqlite3 module, say where transactions begin (below).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Take the write lock up front: a deferred transaction that read first and then
            # writes after another request committed fails with "database is locked" instead
            # of waiting. This also makes savepoints nest inside a real transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise ValueError(
        f"--db: unsupported database URL {url!r} (use sqlite:/// or postgresql+psycopg://)"
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


@dataclass
class _SeqHold:
    """The change sequence, locked by a session's outermost transaction: numbers are handed
    out from memory and the counter is written once, when the transaction commits."""

    transaction: SessionTransaction
    taken: int
    stored: int


_SEQ_HOLD: Final = "agentdesk.seq_hold"


def _held(session: Session) -> _SeqHold | None:
    hold = session.info.get(_SEQ_HOLD)
    if isinstance(hold, _SeqHold) and hold.transaction is session.get_transaction():
        return hold
    return None


def next_seq(session: Session) -> int:
    """Take the next change sequence number.

    The counter row stays locked until the transaction commits, so sequence numbers become
    visible in the order they were taken and a reader's cursor never skips a late commit.
    """
    hold = _held(session)
    if hold is not None:
        hold.taken += 1
        return hold.taken
    value = session.execute(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + 1)
        .returning(SyncCounter.value)
    ).scalar_one()
    return int(value)


def lock_seq(session: Session) -> None:
    """Lock the change sequence now, before any sheet row.

    Every writer takes this lock first (``next_seq`` takes it too), so two requests never
    hold a sheet each while waiting for the other's: PostgreSQL would abort one as a deadlock.

    Taken outside any savepoint, the lock lasts until the transaction ends (a savepoint
    rolled back would release it), so it is taken once: later calls cost nothing and the
    numbers of a batch of a thousand steps come from memory (written back at commit).
    """
    if _held(session) is not None:
        return
    value = session.execute(
        select(SyncCounter.value).where(SyncCounter.id == 1).with_for_update()
    ).scalar_one()
    if not session.in_nested_transaction():
        transaction = session.get_transaction()
        assert transaction is not None
        session.info[_SEQ_HOLD] = _SeqHold(transaction, int(value), int(value))


@event.listens_for(Session, "before_commit")
def _store_seq(session: Session) -> None:
    hold = _held(session)
    if hold is not None and hold.taken > hold.stored:
        session.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=hold.taken))
        hold.stored = hold.taken


def committed_seq(session: Session) -> int:
    """The newest sequence number whose change is committed."""
    counter = session.get(SyncCounter, 1)
    return int(counter.value) if counter else 0
