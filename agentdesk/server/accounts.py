"""Users, departments, sign-in and who may see what."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session

from agentdesk.domain.customers import normalise_phone, normalise_timezone
from agentdesk.domain.errors import FieldValueError
from agentdesk.server import security
from agentdesk.server.models import ROLES, Customer, Department, RefreshToken, User, Visit, utcnow
from agentdesk.wire import UserPublic

_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
WRITER_ROLES = frozenset({"agent", "engineer", "supervisor", "admin"})
ALL_SEEING_ROLES = frozenset({"supervisor", "admin"})
#: How long after a visit is closed its engineer still sees the customer's sheet.
VISIT_GRACE = dt.timedelta(days=2)


class AccountError(ValueError):
    """A user or department request that cannot be carried out, with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Viewer:
    """The signed-in user a request acts for."""

    user_id: str
    role: str
    department_id: int | None

    @property
    def sees_everything(self) -> bool:
        return self.role in ALL_SEEING_ROLES

    @property
    def may_write_customers(self) -> bool:
        return self.role in WRITER_ROLES

    @property
    def may_read_customers(self) -> bool:
        # Trainees rehearse against simulated callers, never real customer data.
        return self.role != "trainee"


def viewer_for(user: User) -> Viewer:
    return Viewer(user_id=user.id, role=user.role, department_id=user.department_id)


def visits_in_hand(viewer: Viewer) -> Select[str]:
    """Customers the viewer has a visit to make to (scheduled or on site), or closed in the
    last two days: an engineer reads their sheet and history, and records findings on it,
    until the visit is done and its report synced."""
    recent = utcnow() - VISIT_GRACE
    return select(Visit.customer_id).where(
        Visit.engineer_id == viewer.user_id,
        or_(
            Visit.state.in_(("scheduled", "on_site")),
            and_(Visit.state == "closed", Visit.updated_at >= recent),
        ),
    )


def customer_visibility(viewer: Viewer) -> ColumnElement[bool]:
    """Customers the viewer may see: everything, or their department's and unassigned ones."""
    if viewer.sees_everything:
        return true()
    # An engineer sees the sheets of the customers they visit (the equipment sheet).
    visited = Customer.id.in_(visits_in_hand(viewer))
    if viewer.department_id is None:
        return or_(Customer.department_id.is_(None), visited)
    return or_(
        Customer.department_id == viewer.department_id,
        Customer.department_id.is_(None),
        visited,
    )


def department_named(session: Session, name: str, *, create: bool = False) -> Department | None:
    name = name.strip()
    if not name:
        return None
    found = session.scalar(select(Department).where(Department.name == name))
    if found is None and create:
        found = Department(name=name)
        session.add(found)
        session.flush()
    return found


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    department: str = "",
    phone: str = "",
    timezone: str = "",
) -> User:
    """Add a user; the password is kept only as an Argon2id hash."""
    if not _USERNAME.match(username):
        raise AccountError("username", "use 2–64 letters, digits, dots, dashes, underscores or @")
    if role not in ROLES:
        raise AccountError("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password", f"must be at least {security.MIN_PASSWORD_LENGTH} characters long"
        )
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError("username", f"{username!r} already exists")
    direct = ""
    if phone.strip():
        try:
            direct = normalise_phone(phone, None)
        except FieldValueError as exc:
            raise AccountError("phone", str(exc)) from None
    zone = ""
    if timezone.strip():
        try:
            zone = normalise_timezone(timezone)
        except FieldValueError as exc:
            raise AccountError("timezone", str(exc)) from None
    dept = department_named(session, department, create=False) if department else None
    if department and dept is None:
        raise AccountError("department", f"no department named {department!r}")
    user = User(
        id=str(uuid.uuid4()),
        username=username,
        full_name=full_name.strip() or username,
        password_hash=security.hash_password(password),
        role=role,
        department_id=dept.id if dept else None,
        phone=direct,
        timezone=zone,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        security.verify_password(security.DUMMY_HASH, password)
        return None
    if not security.verify_password(user.password_hash, password):
        return None
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    return user


def issue_refresh_token(session: Session, user: User, *, days: int) -> str:
    token, token_hash = security.new_refresh_token()
    session.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            user_id=user.id,
            token_hash=token_hash,
            expires_at=utcnow() + dt.timedelta(days=days),
        )
    )
    return token


def redeem_refresh_token(session: Session, token: str) -> User | None:
    """The user a refresh token belongs to, revoking it (tokens are used once)."""
    # Locked, so two requests redeeming the same token cannot both see it unrevoked.
    row = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == security.digest(token))
        .with_for_update()
    )
    if row is None or row.revoked_at is not None:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite hands back naive datetimes
        expires = expires.replace(tzinfo=dt.UTC)
    if expires < utcnow():
        return None
    row.revoked_at = utcnow()
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_refresh_token(session: Session, token: str) -> None:
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == security.digest(token))
    )
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def public_user(session: Session, user: User) -> UserPublic:
    dept = session.get(Department, user.department_id) if user.department_id else None
    return UserPublic(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        department=dept.name if dept else None,
        phone=user.phone,
        timezone=user.timezone,
    )


def active_user(session: Session, username: str, roles: Iterable[str]) -> User | None:
    """The active user of that name whose role is one of ``roles``, or None."""
    return session.scalar(
        select(User).where(
            User.username == username.strip(),
            User.active.is_(True),
            User.role.in_(tuple(roles)),
        )
    )


def directory(session: Session) -> list[UserPublic]:
    """Colleagues a call can be handed to: every active user but trainees, by name."""
    users = session.scalars(
        select(User).where(User.active.is_(True), User.role != "trainee").order_by(User.full_name)
    )
    return [public_user(session, user) for user in users]
