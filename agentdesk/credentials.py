"""Where a remembered sign-in lives: the operating system's keyring, and nowhere else.

On a machine without a keyring service the vault says so and keeps tokens in memory for the
session only; it never falls back to a file.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail

log = logging.getLogger(__name__)

SERVICE = "AgentDesk"


def _usable(backend: KeyringBackend) -> tuple[bool, str]:
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return False, "no keyring service is available on this machine"
    if "plaintext" in name.lower() or type(backend).__module__.startswith("keyrings.alt"):
        return False, f"the keyring backend {name} stores secrets in a file"
    return True, name


class TokenVault:
    """Refresh tokens keyed by server and user name."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend or keyring.get_keyring()
        self.available, self.reason = _usable(self._backend)
        self._memory: dict[str, str] = {}

    @staticmethod
    def _key(server: str, username: str) -> str:
        return f"{server.rstrip('/')}|{username}"

    def save(self, server: str, username: str, token: str) -> bool:
        """Keep the token; True when it went to the keyring, False when only in memory."""
        key = self._key(server, username)
        if self.available:
            try:
                self._backend.set_password(SERVICE, key, token)
                self._memory.pop(key, None)
                return True
            except keyring.errors.KeyringError as exc:
                self.available, self.reason = False, f"the keyring refused: {exc}"
                log.warning("keyring unusable, keeping the sign-in in memory only: %s", exc)
        self._memory[key] = token
        return False

    def load(self, server: str, username: str) -> str | None:
        key = self._key(server, username)
        if key in self._memory:
            return self._memory[key]
        if not self.available:
            return None
        try:
            return self._backend.get_password(SERVICE, key)
        except keyring.errors.KeyringError:
            return None

    def forget(self, server: str, username: str) -> None:
        key = self._key(server, username)
        self._memory.pop(key, None)
        if self.available:
            try:
                self._backend.delete_password(SERVICE, key)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as exc:
                log.warning("could not remove the saved sign-in: %s", exc)
