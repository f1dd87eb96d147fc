"""Remembered sign-ins live in the operating system's keyring, or only in memory."""

from __future__ import annotations

import logging

import keyring.backends.fail
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.compat import properties

from agentdesk.credentials import SERVICE, TokenVault

SERVER = "https://desk.example.no"
TOKEN = "refresh-token-0123456789abcdef"


class _TestBackend(KeyringBackend):
    """Base of the stand-ins below; never chosen by keyring on its own."""

    @properties.classproperty
    def priority(self) -> float:
        # Not viable, so keyring.get_keyring() in other tests never picks a stand-in.
        raise RuntimeError("test stand-in")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class MemoryKeyring(_TestBackend):
    """Stands for the OS keyring service (Secret Service, Keychain, Credential Locker)."""


class PlaintextKeyring(_TestBackend):
    """Stands for a file-based backend such as keyrings.alt's PlaintextKeyring."""


class LockedKeyring(_TestBackend):
    """A keyring service that refuses every write, as a locked collection does."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringError("the collection is locked")


class UnreadableKeyring(MemoryKeyring):
    """A keyring service that stores but then fails to read."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("the service went away")


# --- no keyring on the machine ------------------------------------------------------------


def test_without_a_keyring_service_the_vault_says_so() -> None:
    # Given a machine where keyring found no service
    # When a vault is opened
    vault = TokenVault(keyring.backends.fail.Keyring())

    # Then it reports itself unavailable, with a reason to show
    assert vault.available is False
    assert vault.reason == "no keyring service is available on this machine"


def test_without_a_keyring_service_tokens_live_in_memory_for_the_session_only() -> None:
    # Given a vault on a machine without a keyring service
    backend = keyring.backends.fail.Keyring()
    vault = TokenVault(backend)

    # When a token is saved
    saved_in_keyring = vault.save(SERVER, "ingrid", TOKEN)

    # Then this session can use it, but a new session (a new vault) cannot
    assert saved_in_keyring is False
    assert vault.load(SERVER, "ingrid") == TOKEN
    assert TokenVault(backend).load(SERVER, "ingrid") is None


def test_forgetting_a_token_kept_in_memory_removes_it() -> None:
    # Given a token kept in memory
    vault = TokenVault(keyring.backends.fail.Keyring())
    vault.save(SERVER, "ingrid", TOKEN)

    # When it is forgotten
    vault.forget(SERVER, "ingrid")

    # Then it is gone
    assert vault.load(SERVER, "ingrid") is None


# --- a file-based backend -----------------------------------------------------------------


def test_plaintext_backend_is_refused() -> None:
    # Given keyring configured with a backend that writes secrets to a file
    backend = PlaintextKeyring()

    # When a vault is opened on it and a token saved
    vault = TokenVault(backend)
    saved_in_keyring = vault.save(SERVER, "ingrid", TOKEN)

    # Then the vault refuses the backend, says why, and the file backend got nothing
    assert vault.available is False
    assert "stores secrets in a file" in vault.reason
    assert "PlaintextKeyring" in vault.reason
    assert saved_in_keyring is False
    assert backend.secrets == {}
    assert vault.load(SERVER, "ingrid") == TOKEN


# --- a working keyring --------------------------------------------------------------------


def test_token_is_saved_in_the_keyring_under_the_app_and_server() -> None:
    # Given a working keyring service
    backend = MemoryKeyring()
    vault = TokenVault(backend)

    # When a token is saved
    saved_in_keyring = vault.save(SERVER + "/", "ingrid", TOKEN)

    # Then it went to the keyring, under AgentDesk and the server and user name
    assert vault.available is True
    assert saved_in_keyring is True
    assert backend.secrets == {(SERVICE, f"{SERVER}|ingrid"): TOKEN}


def test_token_saved_in_the_keyring_is_read_by_a_later_session() -> None:
    # Given a token saved by one session
    backend = MemoryKeyring()
    TokenVault(backend).save(SERVER, "ingrid", TOKEN)

    # When a new session (a new vault) loads it, the server URL written with a slash
    loaded = TokenVault(backend).load(SERVER + "/", "ingrid")

    # Then it finds it
    assert loaded == TOKEN


def test_token_saved_in_the_keyring_is_not_also_kept_in_memory() -> None:
    # Given a token saved in the keyring
    backend = MemoryKeyring()
    vault = TokenVault(backend)
    vault.save(SERVER, "ingrid", TOKEN)

    # When the keyring entry disappears behind the vault's back
    backend.secrets.clear()

    # Then the vault has no copy of its own
    assert vault.load(SERVER, "ingrid") is None


def test_tokens_of_different_users_and_servers_are_kept_apart() -> None:
    # Given tokens for two users on one server and one user on another
    vault = TokenVault(MemoryKeyring())
    vault.save(SERVER, "ingrid", "token-ingrid")
    vault.save(SERVER, "marco", "token-marco")
    vault.save("https://other.example.no", "ingrid", "token-other")

    # When each is loaded
    # Then each gets its own
    assert vault.load(SERVER, "ingrid") == "token-ingrid"
    assert vault.load(SERVER, "marco") == "token-marco"
    assert vault.load("https://other.example.no", "ingrid") == "token-other"


def test_forgetting_removes_the_token_from_the_keyring() -> None:
    # Given a token in the keyring
    backend = MemoryKeyring()
    vault = TokenVault(backend)
    vault.save(SERVER, "ingrid", TOKEN)

    # When it is forgotten, twice (signing out again must not fail)
    vault.forget(SERVER, "ingrid")
    vault.forget(SERVER, "ingrid")

    # Then the keyring no longer holds it
    assert backend.secrets == {}
    assert vault.load(SERVER, "ingrid") is None


def test_keyring_that_fails_to_read_gives_no_token() -> None:
    # Given a keyring that stores but cannot read back
    vault = TokenVault(UnreadableKeyring())
    vault.save(SERVER, "ingrid", TOKEN)

    # When the token is loaded
    # Then there is none (the user signs in again) rather than a crash
    assert vault.load(SERVER, "ingrid") is None


# --- a keyring that refuses ---------------------------------------------------------------


def test_keyring_refusing_a_write_makes_the_vault_fall_back_to_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a keyring service that looks usable but refuses writes
    backend = LockedKeyring()
    vault = TokenVault(backend)
    assert vault.available is True

    # When a token is saved
    with caplog.at_level(logging.WARNING, logger="agentdesk.credentials"):
        saved_in_keyring = vault.save(SERVER, "ingrid", TOKEN)

    # Then it is kept in memory, the vault says why, and the token is not in any log
    assert saved_in_keyring is False
    assert vault.available is False
    assert vault.reason == "the keyring refused: the collection is locked"
    assert vault.load(SERVER, "ingrid") == TOKEN
    assert backend.secrets == {}
    assert "keyring unusable" in caplog.text
    assert TOKEN not in caplog.text
