from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from agentdesk.server import scripts
from agentdesk.server.accounts import directory
from agentdesk.server.api.deps import SessionDep, SettingsDep, ViewerDep
from agentdesk.server.models import Department
from agentdesk.wire import DepartmentPublic, Directory, ScriptPublic, SitePublic

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])
directory_router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.get("", response_model=list[DepartmentPublic])
def list_departments(session: SessionDep, viewer: ViewerDep) -> list[DepartmentPublic]:
    rows = session.scalars(select(Department).order_by(Department.name))
    return [DepartmentPublic(id=d.id, name=d.name) for d in rows]


@directory_router.get("/directory", response_model=Directory)
def list_directory(session: SessionDep, viewer: ViewerDep) -> Directory:
    """Colleagues (with their direct numbers) and teams a call can be transferred to."""
    teams = [d.name for d in session.scalars(select(Department).order_by(Department.name))]
    return Directory(users=directory(session), teams=teams)


@directory_router.get("/site", response_model=SitePublic)
def site(settings: SettingsDep, viewer: ViewerDep) -> SitePublic:
    """The site's rules for desks: how often to check back on callers on hold."""
    return SitePublic(
        check_back_interval_s=settings.check_back_interval_s,
        organisation=settings.organisation,
    )


@directory_router.get("/scripts", response_model=list[ScriptPublic])
def published_scripts(session: SessionDep, viewer: ViewerDep) -> list[ScriptPublic]:
    """The newest published version of each call script; desks use it over their own copy
    when it is newer, and keep it for working offline."""
    return scripts.newest(session)
