"""Database tables of the central service (SQLAlchemy 2, typed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY columns.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ROLES = ("agent", "engineer", "trainee", "supervisor", "admin")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The colleague's direct number, given to a transferred caller for next time (E.164).
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Where the colleague works (IANA name; empty: the desk's own zone), so a message shows
    # the callback window in their local time.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256 digest."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncCounter(Base):
    """The server-wide change sequence: one row, incremented under a row lock."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Customer(Base):
    """A customer sheet: the whole sheet as JSON, plus the columns queries need."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    tier: Mapped[str] = mapped_column(String(1))
    data: Mapped[dict[str, Any]]
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class CustomerRevision(Base):
    """Who changed which fields of a sheet, from what to what: the basis of merging."""

    __tablename__ = "customer_revisions"
    __table_args__ = (UniqueConstraint("customer_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[Any]]
    changes: Mapped[dict[str, Any]]
    user_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AppliedMutation(Base):
    """A pushed mutation that took effect, keyed by its client-generated id."""

    __tablename__ = "applied_mutations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomerPhone(Base):
    """Each phone number of a sheet in E.164, so an incoming call finds its caller."""

    __tablename__ = "customer_phones"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Bridge(Base):
    """A phone system (PBX or CTI bridge) allowed to post call events; the token is hashed."""

    __tablename__ = "bridges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Contact(Base):
    """One contact with the help desk: a call, an e-mail, a message or a visit at the desk."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("bridge_id", "call_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8), default="in")
    bridge_id: Mapped[str | None] = mapped_column(ForeignKey("bridges.id"))
    call_id: Mapped[str | None] = mapped_column(String(128))
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    called_number: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    tier: Mapped[str] = mapped_column(String(1), default="B")
    state: Mapped[str] = mapped_column(String(16))
    offered_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    hangup_cause: Mapped[str] = mapped_column(String(32), default="")
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    # The agent who took the contact owns it until it is solved or handed over by name.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Message(Base):
    """A message taken for a colleague or a team, and the callback it asks for."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[str] = mapped_column(String(8))
    for_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    for_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    taken_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    callback_before: Mapped[dt.datetime] = mapped_column(index=True)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """An engineer's visit to a customer, from scheduling to the signed report."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    engineer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    window_start: Mapped[dt.datetime] = mapped_column(index=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MessageParty(Base):
    """Who may see a message: whoever took it and everyone it has been for."""

    __tablename__ = "message_parties"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class Event(Base):
    """Something desks should hear about at once, kept so a reconnecting desk can catch up."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # For events meant for a few users only (a message): "|id1|id2|"; empty for everyone
    # the department rule lets see it.
    audience: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PublishedScript(Base):
    """A call script a supervisor published; desks take the newest version of each."""

    __tablename__ = "scripts"
    __table_args__ = (UniqueConstraint("script_id", "language", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    script_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64), default="")


class Attempt(Base):
    """A rehearsal a trainee played, scored on the server from the replies."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    trainee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime] = mapped_column(index=True)
    data: Mapped[dict[str, Any]]


class Assignment(Base):
    """A scenario a supervisor asked a trainee to rehearse."""

    __tablename__ = "assignments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    trainee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[dict[str, Any]]


class StandardAnswer(Base):
    """A published standard answer (the model answer of one turn of a scenario); desks take
    the newest version of each."""

    __tablename__ = "standard_answers"
    __table_args__ = (UniqueConstraint("scenario", "language", "turn", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scenario: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    turn: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200), default="")
    #: The client's id for this publication, so a repeated request publishes nothing new.
    publish_id: Mapped[str | None] = mapped_column(String(36), unique=True, default=None)


class LoginFailure(Base):
    """Failed sign-ins counted per user name and per client address, to slow guessing."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # "user:…" or "ip:…"
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """One change to a contact, message, visit or training record: who, when, what, and
    the fields before and after. (Sheets keep theirs as revisions.)"""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    op: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any]]
