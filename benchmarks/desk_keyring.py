"""A keyring for a benchmark desk started as its own process, on a machine without one.

The desk keeps its refresh token only in the operating system's keyring. The benchmark
machine runs no keyring service, and a desk process started by ``cold_start`` must find the
sign-in a previous desk left there, as it does on an agent's computer. This backend stands
in for the keyring service: a JSON file in the benchmark's temporary directory (named by
``AGENTDESK_BENCH_KEYRING``), removed with that directory. Select it with
``PYTHON_KEYRING_BACKEND=benchmarks.desk_keyring.BenchKeyring``.

Only for benchmarks: the desk itself never keeps a token in a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

ENV = "AGENTDESK_BENCH_KEYRING"


class BenchKeyring(KeyringBackend):
    """Secrets in one JSON file, each write replacing the file whole."""

    priority = 1

    def __init__(self, path: Path | str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        where = path or os.environ.get(ENV)
        if not where:
            raise RuntimeError(f"{ENV} names no file for the benchmark keyring")
        self.path = Path(where)

    def _items(self) -> dict[str, str]:
        try:
            items: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return items

    def _write(self, items: dict[str, str]) -> None:
        # A desk may be stopped at any moment: a half-written file would lose the sign-in.
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(items), encoding="utf-8")
        tmp.replace(self.path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._items().get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._items()
        items[f"{service}|{username}"] = password
        self._write(items)

    def delete_password(self, service: str, username: str) -> None:
        items = self._items()
        if items.pop(f"{service}|{username}", None) is not None:
            self._write(items)
