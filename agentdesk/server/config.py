"""Server settings, read from the command line and ``AGENTDESK_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

MIN_SECRET_LENGTH = 32


def _secret_from_env() -> str:
    value = os.environ.get("AGENTDESK_SECRET_KEY", "")
    if value and len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"AGENTDESK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long"
        )
    # Without a configured key each process signs with its own random key: access tokens
    # then last until a restart, and desks renew them with their refresh token.
    return value or secrets.token_urlsafe(48)


def _check_back_from_env() -> float:
    """The site's check-back interval for callers on hold (``AGENTDESK_CHECK_BACK_S``)."""
    from agentdesk.domain.errors import ValidationFailed
    from agentdesk.domain.hold import DEFAULT_INTERVAL_S, check_interval

    raw = os.environ.get("AGENTDESK_CHECK_BACK_S", "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        return check_interval(raw)
    except ValidationFailed as failed:
        raise ValueError(f"AGENTDESK_CHECK_BACK_S {failed.errors[0].message}") from None


@dataclass(frozen=True)
class ServerSettings:
    """How one server process runs."""

    db_url: str
    secret_key: str = field(default_factory=_secret_from_env, repr=False)
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    page_limit_max: int = 2000
    push_batch_max: int = 500
    #: Request bodies over this many bytes are refused with 413 (a push batch of 500
    #: contact steps is well under 1 MB; a signed report with its signature under 200 kB).
    max_body_bytes: int = field(
        default_factory=lambda: int(os.environ.get("AGENTDESK_MAX_BODY_BYTES") or 8 * 1024 * 1024)
    )
    #: How often an open event stream looks for events nobody announced to this process.
    #: PostgreSQL announces every commit (LISTEN/NOTIFY); SQLite is one process, which
    #: announces its own commits, so this is only a safety net.
    event_poll_s: float = 10.0
    #: ISO 3166 region for caller numbers sent without a country code (``NO``, ``CN``…).
    default_region: str | None = field(
        default_factory=lambda: os.environ.get("AGENTDESK_DEFAULT_REGION") or None
    )
    #: The help desk's own name, as agents say it in the greeting.
    organisation: str = field(
        default_factory=lambda: os.environ.get("AGENTDESK_ORGANISATION", "").strip()
    )
    #: Check back on callers on hold every this many seconds (30–40), for every desk.
    check_back_interval_s: float = field(default_factory=_check_back_from_env)
