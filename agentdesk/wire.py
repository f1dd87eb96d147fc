"""JSON shapes of the REST API, shared by the server and the desk's client."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MutationStatus = Literal["applied", "duplicate", "conflict", "rejected"]


#: The largest change number, version or event id a request may name (64-bit columns).
MAX_SEQ = 2**62


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=16, max_length=512)


class UserPublic(BaseModel):
    id: str
    username: str
    full_name: str
    role: str
    department: str | None = None
    phone: str = ""
    timezone: str = ""  # IANA name; empty: the desk's own zone


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic


class PhonePublic(BaseModel):
    label: str
    number: str


class DevicePublic(BaseModel):
    id: str
    computer_name: str = ""
    cpu: str = ""
    memory: str = ""
    disk: str = ""
    network_card: str = ""
    os: str = ""
    software: list[str] = []
    ip_addresses: list[str] = []


class CustomerPublic(BaseModel):
    """A customer sheet as the API returns it."""

    id: str
    version: int
    name: str
    phones: list[PhonePublic]
    email: str
    organisation: str
    location: str
    tier: Literal["A", "B"]
    account_manager: str
    language: str
    timezone: str
    department: str
    devices: list[DevicePublic]


class CustomerIn(BaseModel):
    """A sheet to create or change; every field is checked by the sheet's own rules."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    version: int | None = Field(default=None, ge=0, le=MAX_SEQ)
    name: Any = None
    phones: Any = None
    email: Any = None
    organisation: Any = None
    location: Any = None
    tier: Any = None
    account_manager: Any = None
    language: Any = None
    timezone: Any = None
    department: Any = None
    devices: Any = None


class CustomerList(BaseModel):
    items: list[CustomerPublic]
    total: int


class DepartmentPublic(BaseModel):
    id: int
    name: str


#: The kinds of record desks write and pull.
Entity = Literal["customer", "contact", "message", "visit", "attempt", "assignment"]


class Mutation(BaseModel):
    """One change made on a desk; ``id`` is generated there and is the idempotency key."""

    id: uuid.UUID
    entity: Entity
    entity_id: uuid.UUID
    op: Literal[
        "create",
        "update",
        "answer",
        "end",
        "wrap_up",
        "note",
        "promise",
        "link",
        "hold",
        "check_back",
        "resume",
        "transfer",
        "transfer_answer",
        "withdraw_transfer",
        "keep_promise",
        "acknowledge",
        "called_back",
        "hand_on",
        "checklist",
        "running_late",
        "step",
        "report",
        "cancel",
        "review",
    ]
    base_version: int = Field(ge=0, le=MAX_SEQ)
    fields: dict[str, Any]


class PushRequest(BaseModel):
    device_id: str = Field(min_length=1, max_length=64)
    mutations: list[Mutation] = Field(max_length=500)


class FieldErrorOut(BaseModel):
    field: str
    message: str


class MutationResult(BaseModel):
    id: str
    status: MutationStatus
    entity_id: str
    version: int | None = None
    record: dict[str, Any] | None = None
    conflicts: list[str] = []
    errors: list[FieldErrorOut] = []


class PushResponse(BaseModel):
    results: list[MutationResult]


class Change(BaseModel):
    seq: int
    # Text, not the closed list: a desk skips kinds of record a newer server adds.
    entity: str
    id: str
    version: int
    data: dict[str, Any]
    #: For a sheet: the text searches match it by, as the server derived it from the same
    #: sheet (see ``agentdesk.domain.customers.search_text``), so a desk taking a whole
    #: region's sheets need not derive it again for each one.
    search: str | None = None


class ChangesPage(BaseModel):
    changes: list[Change]
    cursor: int
    has_more: bool
    remaining: int


class SitePublic(BaseModel):
    """Rules the site sets for every desk."""

    check_back_interval_s: float
    organisation: str = ""


class Directory(BaseModel):
    """Who a call can be handed to: colleagues, and teams (departments)."""

    users: list[UserPublic]
    teams: list[str]


class ScriptPublic(BaseModel):
    """The newest published version of one call script in one language (YAML text)."""

    id: str
    language: str
    version: int
    text: str
    published_at: str


class AuditEntryPublic(BaseModel):
    """One change in a customer's audit trail."""

    at: str
    who: str
    entity: str  # sheet, contact, message, visit
    entity_id: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any]


class StandardAnswerIn(BaseModel):
    """A supervisor's standard answer for one turn of a scenario, to publish."""

    id: uuid.UUID | None = Field(
        default=None, description="chosen by the client: a repeat publishes nothing new"
    )
    scenario: str = Field(min_length=1, max_length=64)
    language: str = Field(min_length=2, max_length=8, description="en, zh (zh_CN) or nb")
    turn: int = Field(ge=0, le=100)
    text: str = Field(min_length=1, max_length=2000)


class StandardAnswerPublic(BaseModel):
    """The newest published standard answer of one turn."""

    scenario: str
    language: str
    turn: int
    text: str
    version: int
    published_by: str
    published_at: str


Urgency = Literal["low", "normal", "high", "urgent"]


class MessageIn(BaseModel):
    """A message taken for a colleague (``for_user``, a user name) or a team (``for_team``).

    Times are ISO 8601 with an offset; ``caller_timezone`` is an IANA name. The phone number
    needs its country and area code (``+47 22 33 44 55``); it is stored as E.164.
    """

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    first_name: str | None = None
    last_name: str | None = None
    for_user: str | None = None
    for_team: str | None = None
    organisation: str | None = None
    phone: str | None = None
    message: str | None = None
    urgency: Urgency = "normal"
    callback_after: str | None = None
    callback_before: str | None = None
    caller_timezone: str | None = None
    language: Literal["en", "zh_CN", "nb"] = "en"
    taken_at: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None


class MessageHistory(BaseModel):
    at: str
    by: str
    what: str
    to: str | None = None
    outcome: str | None = None
    note: str | None = None


class MessagePublic(BaseModel):
    id: str
    version: int
    state: Literal["new", "acknowledged", "called_back"]
    first_name: str
    last_name: str
    organisation: str
    phone: str
    phone_display: str
    message: str
    urgency: Urgency
    callback_after: str
    callback_before: str
    caller_timezone: str
    language: str
    for_user: str
    for_name: str
    for_team: str
    taken_at: str
    taken_by: str
    taken_by_name: str
    customer_id: str | None = None
    contact_id: str | None = None
    outcome: str | None = None
    called_back_at: str | None = None
    overdue: bool = False
    history: list[MessageHistory]


class CalledBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(max_length=1000)
    at: str | None = None


class HandOnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_user: str | None = None
    to_team: str | None = None
    note: str = Field(default="", max_length=1000)


class EscalationPublic(BaseModel):
    """A callback or promise whose time has passed without being done."""

    kind: Literal["callback", "promise"]
    id: str
    owner: str
    what: str
    due_at: str
    late_s: float
    record_id: str


class VisitIn(BaseModel):
    """A visit to schedule: times are ISO 8601 with an offset; ``engineer`` is a user name."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    device: str | None = None
    fault: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    engineer: str | None = None
