"""The audit trail: who changed what, when, from what to what, viewable per customer.

Sheets keep their history as revisions (field by field, before and after); every step on a
contact, message, visit or training record is noted here with the fields it changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.server.models import AuditEntry, CustomerRevision, User, utcnow

#: Bookkeeping that changes with every step and says nothing of what changed.
IGNORED: Final = frozenset({"version", "seq", "updated_at", "unsent"})


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def audit_values(
    *,
    user_id: str,
    entity: str,
    entity_id: str,
    op: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    customer_id: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The columns of one audit entry, with only the fields the step changed."""
    old = dict(before or {})
    changed = sorted(
        k for k in set(old) | set(after) if k not in IGNORED and old.get(k) != after.get(k)
    )
    return {
        "at": at or utcnow(),
        "user_id": user_id,
        "entity": entity,
        "entity_id": entity_id,
        "customer_id": customer_id,
        "op": op,
        "before": {k: old.get(k) for k in changed} if before is not None else None,
        "after": {k: after.get(k) for k in changed},
    }


def note_change(
    session: Session,
    *,
    user_id: str,
    entity: str,
    entity_id: str,
    op: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    customer_id: str | None = None,
) -> None:
    """Add one audit entry, with only the fields the step changed, to the transaction."""
    session.add(
        AuditEntry(
            **audit_values(
                user_id=user_id,
                entity=entity,
                entity_id=entity_id,
                op=op,
                before=before,
                after=after,
                customer_id=customer_id,
            )
        )
    )


def trail(session: Session, customer_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """Every change of a customer's sheet, contacts and visits, newest first."""
    names = dict(session.execute(select(User.id, User.full_name)).all())
    entries: list[dict[str, Any]] = []
    for revision in session.scalars(
        select(CustomerRevision)
        .where(CustomerRevision.customer_id == customer_id)
        .order_by(CustomerRevision.version.desc())
        .limit(limit)
    ):
        changes = dict(revision.changes)
        entries.append(
            {
                "at": _aware(revision.at).isoformat(),
                "who": names.get(revision.user_id or "", "") or "",
                "entity": "sheet",
                "entity_id": customer_id,
                "op": "create" if revision.version == 1 else "update",
                "before": {k: v[0] for k, v in changes.items()} if revision.version > 1 else None,
                "after": {k: v[1] for k, v in changes.items()},
            }
        )
    for entry in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.customer_id == customer_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ):
        entries.append(
            {
                "at": _aware(entry.at).isoformat(),
                "who": names.get(entry.user_id, "") or "",
                "entity": entry.entity,
                "entity_id": entry.entity_id,
                "op": entry.op,
                "before": entry.before,
                "after": entry.after,
            }
        )
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]
