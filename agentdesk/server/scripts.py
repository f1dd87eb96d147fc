"""Call scripts published by supervisors, so an update reaches every desk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentdesk.domain.scripts import ScriptError, parse_script
from agentdesk.server.contacts import aware
from agentdesk.server.models import PublishedScript
from agentdesk.wire import ScriptPublic


def publish(session: Session, path: Path, text: str, *, by: str = "") -> PublishedScript:
    """Store a new version of a script after checking it; raises ScriptError (with the file
    and line) for a broken script or a version that is not newer than the published one."""
    script = parse_script(path, text)
    latest = session.scalar(
        select(func.max(PublishedScript.version)).where(
            PublishedScript.script_id == script.id, PublishedScript.language == script.language
        )
    )
    if latest is not None and script.version <= latest:
        raise ScriptError(
            f"{path}:1: version {script.version} is already published; "
            f"raise 'version' above {latest} to publish a change"
        )
    row = PublishedScript(
        script_id=script.id,
        language=script.language,
        version=script.version,
        text=text,
        published_by=by,
    )
    session.add(row)
    session.flush()
    return row


def newest(session: Session) -> list[ScriptPublic]:
    """The newest version of every published script, in every language."""
    rows = session.scalars(
        select(PublishedScript).order_by(
            PublishedScript.script_id, PublishedScript.language, PublishedScript.version.desc()
        )
    )
    seen: set[tuple[str, str]] = set()
    found = []
    for row in rows:
        key = (row.script_id, row.language)
        if key in seen:
            continue
        seen.add(key)
        found.append(
            ScriptPublic(
                id=row.script_id,
                language=row.language,
                version=row.version,
                text=row.text,
                published_at=aware(row.published_at).isoformat(),
            )
        )
    return found
