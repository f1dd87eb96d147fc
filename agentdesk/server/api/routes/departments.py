from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.server.models import Department
from agentdesk.wire import DepartmentPublic

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])


@router.get("", response_model=list[DepartmentPublic])
def list_departments(session: SessionDep, viewer: ViewerDep) -> list[DepartmentPublic]:
    rows = session.scalars(select(Department).order_by(Department.name))
    return [DepartmentPublic(id=d.id, name=d.name) for d in rows]
