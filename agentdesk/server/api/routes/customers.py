from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status

from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.server import customers
from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.wire import MAX_SEQ, AuditEntryPublic, CustomerIn, CustomerList, CustomerPublic

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


def _public(row: Any) -> CustomerPublic:
    return CustomerPublic.model_validate(customers.record_of(row))


@router.post("", response_model=CustomerPublic, status_code=status.HTTP_201_CREATED)
def create_customer(body: CustomerIn, session: SessionDep, viewer: ViewerDep) -> CustomerPublic:
    """Create a customer sheet; the client may choose the id (a UUID)."""
    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    row = customers.create_customer(session, viewer, data)
    session.commit()
    return _public(row)


@router.get("", response_model=CustomerList)
def search_customers(
    session: SessionDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CustomerList:
    """Search by name, phone digits, e-mail, organisation, computer name or IP address."""
    rows, total = customers.search_customers(session, viewer, q, limit=limit, offset=offset)
    return CustomerList(items=[_public(r) for r in rows], total=total)


@router.get("/{customer_id}", response_model=CustomerPublic)
def read_customer(customer_id: str, session: SessionDep, viewer: ViewerDep) -> CustomerPublic:
    return _public(customers.get_customer(session, viewer, customer_id))


@router.get("/{customer_id}/audit", response_model=list[AuditEntryPublic])
def customer_audit(
    customer_id: str, session: SessionDep, viewer: ViewerDep
) -> list[AuditEntryPublic]:
    """Every change of the customer's sheet, contacts and visits, newest first: who, when,
    what, and the changed fields before and after."""
    trail = customers.audit_trail(session, viewer, customer_id)  # 404 unless you may see it
    return [AuditEntryPublic.model_validate(e) for e in trail]


@router.put("/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: str,
    body: CustomerIn,
    session: SessionDep,
    viewer: ViewerDep,
    if_match: Annotated[str | None, Header()] = None,
) -> CustomerPublic:
    """Change a sheet. The version it was based on goes in ``version`` or ``If-Match``;
    a stale version answers 409 with the current sheet, never an overwrite."""
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    data.pop("id", None)
    if version is None and if_match:
        try:
            version = int(if_match.strip().strip("W/").strip('"'))
            if not 0 <= version <= MAX_SEQ:
                raise ValueError(if_match)
        except ValueError:
            raise ValidationFailed(
                [FieldError("If-Match", "must be the sheet's version number")]
            ) from None
    if version is None:
        raise ValidationFailed(
            [FieldError("version", "is required: the version the edit was based on")]
        )
    row = customers.update_customer(session, viewer, customer_id, data, base_version=int(version))
    session.commit()
    return _public(row)
