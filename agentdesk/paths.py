"""Where AgentDesk keeps its files: the user's data and configuration folders."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP = "AgentDesk"


def data_dir() -> Path:
    """``AGENTDESK_DATA_DIR`` when set (tests, portable installs), else the OS data folder."""
    override = os.environ.get("AGENTDESK_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    override = os.environ.get("AGENTDESK_DATA_DIR")
    return Path(override) / "config" if override else Path(user_config_dir(APP, appauthor=False))


def desk_store_path(server: str, username: str) -> Path:
    """One local store per server and user, so two accounts never share records."""
    key = hashlib.sha256(f"{server.rstrip('/')}|{username}".encode()).hexdigest()[:16]
    return data_dir() / "desk" / f"{username}-{key}.sqlite"


def embedded_db_url() -> str:
    return f"sqlite:///{data_dir() / 'server' / 'agentdesk.sqlite'}"
