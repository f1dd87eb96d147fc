from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.server import telephony
from agentdesk.server.api.deps import SessionDep, SettingsDep
from agentdesk.server.contacts import contact_record
from agentdesk.server.models import Bridge

router = APIRouter(tags=["telephony"])

MAX_BODY = 64 * 1024


def _bridge(session: SessionDep, token: str) -> Bridge:
    bridge = telephony.bridge_for_token(session, token)
    if bridge is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Unknown or disabled bridge token: create one with `agentdesk bridges add`",
        )
    return bridge


async def _payload(request: Request) -> dict[str, Any]:
    """The body as a mapping, whether JSON or form-encoded (phone systems send both)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ValidationFailed([FieldError("body", f"is too large: at most {MAX_BODY} bytes")])
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if kind == "application/json":
        try:
            data = json.loads(text or "{}")
        except json.JSONDecodeError:
            raise ValidationFailed([FieldError("body", "is not valid JSON")]) from None
        if not isinstance(data, dict):
            raise ValidationFailed([FieldError("body", "expected a JSON object")])
        return data
    form = parse_qs(text, keep_blank_values=True)
    return {k.removesuffix("[]"): (v if k.endswith("[]") else v[-1]) for k, v in form.items()}


@router.post("/api/v1/telephony/events")
async def call_event(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str, Header()] = "",
) -> dict[str, Any]:
    """A call event from a phone system, with its bridge token as ``Bearer`` credentials."""
    scheme, _, token = authorization.partition(" ")
    payload = await _payload(request)

    def apply() -> dict[str, Any]:
        bridge = _bridge(session, token.strip() if scheme.lower() == "bearer" else "")
        event = telephony.parse_native(payload)
        contact = telephony.apply_call_event(
            session, bridge, event, default_region=settings.default_region
        )
        record = contact_record(contact)
        session.commit()
        return {"contact": record}

    # Database work never runs on the event loop: with SQLite it may wait for the write
    # lock, which a request finishing in the thread pool releases only via the loop.
    return await run_in_threadpool(apply)


@router.post("/api/v1/cti/{token}")
async def zammad_cti(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The generic CTI endpoint, at the path phone systems configured for it already use."""
    payload = await _payload(request)

    def apply() -> dict[str, Any]:
        bridge = _bridge(session, token)
        event = telephony.parse_zammad(payload)
        contact = telephony.apply_call_event(
            session, bridge, event, default_region=settings.default_region
        )
        contact_id = contact.id
        session.commit()
        return {"contact_id": contact_id}

    return await run_in_threadpool(apply)
