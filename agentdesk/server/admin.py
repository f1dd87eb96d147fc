"""Supervisor-side operations run straight on the database by the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.domain.customers import Customer as Sheet
from agentdesk.domain.customers import parse_customer
from agentdesk.server import customers
from agentdesk.server.accounts import Viewer, department_named
from agentdesk.server.db import lock_seq
from agentdesk.server.models import Customer, Department

#: The command line acts with every right, as the supervisor who runs it.
SYSTEM = Viewer(user_id="system", role="admin", department_id=None)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    departments_created: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.departments_created:
            text += f"; new departments: {', '.join(self.departments_created)}"
        return text


def _keep_device_ids(existing: Sheet, incoming: Sheet) -> Sheet:
    """Match computers by name so a re-import does not churn their ids."""
    by_name = {d.computer_name: d.id for d in existing.devices if d.computer_name}
    devices = tuple(
        replace(d, id=by_name[d.computer_name]) if d.computer_name in by_name else d
        for d in incoming.devices
    )
    return replace(incoming, devices=devices)


def import_sheets(session: Session, sheets: Sequence[Sheet]) -> ImportReport:
    """Create or update every sheet, creating departments they name; all in one transaction."""
    report = ImportReport()
    lock_seq(session)  # once for the whole import: its change numbers come from memory
    for sheet in sheets:
        if sheet.department and department_named(session, sheet.department) is None:
            department_named(session, sheet.department, create=True)
            report.departments_created.append(sheet.department)
        row = session.get(Customer, sheet.id)
        if row is None:
            customers.create_customer(session, SYSTEM, sheet.to_dict())
            report.created += 1
            continue
        current = parse_customer(customers.record_of(row))
        incoming = _keep_device_ids(current, sheet)
        values = incoming.sheet_values()
        changes = {k: v for k, v in values.items() if current.sheet_values()[k] != v}
        if not changes:
            report.unchanged += 1
            continue
        customers.update_customer(session, SYSTEM, sheet.id, changes, base_version=row.version)
        report.updated += 1
    return report


def export_sheets(session: Session, department: str | None = None) -> list[Sheet]:
    stmt = select(Customer).order_by(Customer.name, Customer.id)
    if department:
        dept = department_named(session, department)
        stmt = stmt.where(Customer.department_id == (dept.id if dept else -1))
    return [parse_customer(customers.record_of(row)) for row in session.scalars(stmt)]


def add_department(session: Session, name: str) -> Department:
    if department_named(session, name) is not None:
        raise ValueError(f"department {name!r} already exists")
    created = department_named(session, name, create=True)
    assert created is not None
    return created
