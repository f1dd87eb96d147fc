"""The desk's log file, for support: ``<data folder>/logs/desk.log``, rotated.

Nothing secret is ever written to it. The desk never logs tokens or passwords, and the file
handler also masks anything shaped like one (a bearer token, a JWT, a ``password`` or
``token`` field) should a library's message carry it.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path
from typing import Final

from agentdesk.paths import data_dir

MAX_BYTES: Final = 1024 * 1024
BACKUPS: Final = 3
MASK: Final = "[hidden]"
_SECRETS: Final = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),  # a JWT
    re.compile(
        r"(?i)((?:refresh_token|access_token|password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+"
    ),
)


def mask_secrets(text: str) -> str:
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


#: Libraries whose debug records show the arguments of calls (a keyring write's token):
#: only their warnings reach the file.
QUIET: Final = ("qasync", "keyring", "asyncio")


class MaskSecrets(logging.Filter):
    """Rewrites a record's message with anything secret-looking masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and record.name.split(".")[0] in QUIET:
            return False
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def log_path() -> Path:
    return data_dir() / "logs" / "desk.log"


def start_desk_log(level: int = logging.INFO) -> logging.Handler:
    """Send the desk's log records to its log file too; returns the handler."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskSecrets())
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler
