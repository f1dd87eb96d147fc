from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from agentdesk.server.accounts import directory
from agentdesk.server.api.deps import SessionDep, ViewerDep
from agentdesk.server.models import Department
from agentdesk.wire import DepartmentPublic, Directory

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])
directory_router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


@router.get("", response_model=list[DepartmentPublic])
def list_departments(session: SessionDep, viewer: ViewerDep) -> list[DepartmentPublic]:
    rows = session.scalars(select(Department).order_by(Department.name))
    return [DepartmentPublic(id=d.id, name=d.name) for d in rows]


@directory_router.get("", response_model=Directory)
def list_directory(session: SessionDep, viewer: ViewerDep) -> Directory:
    """Colleagues (with their direct numbers) and teams a call can be transferred to."""
    teams = [d.name for d in session.scalars(select(Department).order_by(Department.name))]
    return Directory(users=directory(session), teams=teams)
