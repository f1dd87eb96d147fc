"""Sign-in, token renewal and sign-out against the real server on both databases."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, select

from agentdesk.server.models import User
from tests.conftest import SECRET, LiveServer

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def _login(live_server: LiveServer, role: str = "agent") -> dict[str, object]:
    account = live_server.accounts[role]
    response = httpx.post(
        f"{live_server.url}{LOGIN}",
        json={"username": account.username, "password": account.password},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _me(live_server: LiveServer, access_token: str) -> httpx.Response:
    return httpx.get(f"{live_server.url}{ME}", headers={"Authorization": f"Bearer {access_token}"})


def test_login_returns_access_and_refresh_tokens_and_the_user(live_server: LiveServer) -> None:
    # Given
    account = live_server.accounts["agent"]

    # When
    response = httpx.post(
        f"{live_server.url}{LOGIN}",
        json={"username": account.username, "password": account.password},
    )

    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["refresh_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["user"]["username"] == account.username
    assert body["user"]["role"] == "agent"
    assert body["user"]["department"] == "North"


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent.north", "not-the-password"), ("nobody.here", "agent-pass-1")],
    ids=["wrong-password", "unknown-user"],
)
def test_failed_login_answers_401_without_saying_which_part_was_wrong(
    live_server: LiveServer, username: str, password: str
) -> None:
    # When
    response = httpx.post(
        f"{live_server.url}{LOGIN}", json={"username": username, "password": password}
    )

    # Then
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect user name or password"}


def test_password_is_stored_only_as_an_argon2id_hash(live_server: LiveServer) -> None:
    # Given
    account = live_server.accounts["agent"]
    engine = create_engine(live_server.db_url)

    # When
    try:
        with engine.connect() as conn:
            stored = conn.scalar(
                select(User.password_hash).where(User.username == account.username)
            )
    finally:
        engine.dispose()

    # Then
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert account.password not in stored


def test_me_answers_the_signed_in_user(live_server: LiveServer) -> None:
    # Given
    tokens = _login(live_server, "engineer")

    # When
    response = _me(live_server, str(tokens["access_token"]))

    # Then
    assert response.status_code == 200
    assert response.json() == tokens["user"]
    assert response.json()["role"] == "engineer"


def test_refresh_gives_a_new_working_pair(live_server: LiveServer) -> None:
    # Given
    tokens = _login(live_server)

    # When
    response = httpx.post(
        f"{live_server.url}{REFRESH}", json={"refresh_token": tokens["refresh_token"]}
    )

    # Then
    assert response.status_code == 200, response.text
    renewed = response.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert _me(live_server, renewed["access_token"]).status_code == 200


def test_refresh_token_is_refused_once_it_was_used(live_server: LiveServer) -> None:
    # Given
    tokens = _login(live_server)
    first = httpx.post(
        f"{live_server.url}{REFRESH}", json={"refresh_token": tokens["refresh_token"]}
    )
    assert first.status_code == 200, first.text

    # When
    again = httpx.post(
        f"{live_server.url}{REFRESH}", json={"refresh_token": tokens["refresh_token"]}
    )

    # Then
    assert again.status_code == 401
    # The rotated token is still good.
    renewed = httpx.post(
        f"{live_server.url}{REFRESH}", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert renewed.status_code == 200


def test_refresh_token_redeemed_concurrently_works_only_once(live_server: LiveServer) -> None:
    # Given
    tokens = _login(live_server)
    attempts = 6
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []

    def redeem() -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            barrier.wait()
            response = http.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
            statuses.append(response.status_code)

    # When
    threads = [threading.Thread(target=redeem) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then
    assert sorted(statuses) == [200] + [401] * (attempts - 1)


def test_logout_revokes_the_refresh_token(live_server: LiveServer) -> None:
    # Given
    tokens = _login(live_server)

    # When
    response = httpx.post(
        f"{live_server.url}{LOGOUT}", json={"refresh_token": tokens["refresh_token"]}
    )

    # Then
    assert response.status_code == 204
    refused = httpx.post(
        f"{live_server.url}{REFRESH}", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refused.status_code == 401


def _expired_token(live_server: LiveServer) -> str:
    user_id = str(_login(live_server)["user"]["id"])  # type: ignore[index]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    claims = {"sub": user_id, "role": "agent", "iat": past, "exp": past, "typ": "access"}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _foreign_token(live_server: LiveServer) -> str:
    """Well-formed and unexpired, but signed with another key."""
    user_id = str(_login(live_server)["user"]["id"])  # type: ignore[index]
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    claims = {"sub": user_id, "role": "agent", "exp": exp, "typ": "access"}
    return jwt.encode(claims, "another-secret-key-that-is-long-enough-for-hs256", "HS256")


@pytest.mark.parametrize(
    "authorization",
    ["none", "garbage", "expired", "foreign-signature", "refresh-token-as-bearer"],
)
def test_requests_without_a_valid_access_token_answer_401(
    live_server: LiveServer, authorization: str
) -> None:
    # Given
    headers: dict[str, str] = {}
    if authorization == "garbage":
        headers["Authorization"] = "Bearer not.a.token"
    elif authorization == "expired":
        headers["Authorization"] = f"Bearer {_expired_token(live_server)}"
    elif authorization == "foreign-signature":
        headers["Authorization"] = f"Bearer {_foreign_token(live_server)}"
    elif authorization == "refresh-token-as-bearer":
        headers["Authorization"] = f"Bearer {_login(live_server)['refresh_token']}"

    # When
    response = httpx.get(f"{live_server.url}{ME}", headers=headers)

    # Then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "sign in" in response.json()["detail"]


def test_repeated_failures_lock_the_user_name_for_a_while(live_server: LiveServer) -> None:
    from agentdesk.server.models import LoginFailure
    from agentdesk.server.throttle import FREE_FAILURES

    # Given the supervisor mistypes the password again and again
    account = live_server.accounts["supervisor"]
    wrong = {"username": account.username, "password": "guess-guess-guess"}
    answers = [httpx.post(f"{live_server.url}{LOGIN}", json=wrong) for _ in range(FREE_FAILURES)]
    assert [a.status_code for a in answers[:-1]] == [401] * (FREE_FAILURES - 1)
    # Then the last failure locks the name, saying for how long
    locked = answers[-1]
    assert locked.status_code == 429, locked.text
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
    assert "try again in" in locked.json()["detail"]
    # And even the right password waits, while another user signs in as usual
    right = {"username": account.username, "password": account.password}
    assert httpx.post(f"{live_server.url}{LOGIN}", json=right).status_code == 429
    _login(live_server, "agent")
    # When the lock has run out, the right password works and clears the count
    engine = create_engine(live_server.db_url)
    try:
        with engine.begin() as conn:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            conn.execute(
                LoginFailure.__table__.update()
                .where(LoginFailure.key == f"user:{account.username}")
                .values(locked_until=past)
            )
        assert httpx.post(f"{live_server.url}{LOGIN}", json=right).status_code == 200
        with engine.connect() as conn:
            left = conn.scalar(
                select(LoginFailure.count).where(LoginFailure.key == f"user:{account.username}")
            )
        assert left is None
    finally:
        engine.dispose()


def test_unknown_user_names_are_locked_alike(live_server: LiveServer) -> None:
    from agentdesk.server.throttle import FREE_FAILURES

    body = {"username": "no.such.person", "password": "whatever-it-is"}
    codes = [
        httpx.post(f"{live_server.url}{LOGIN}", json=body).status_code
        for _ in range(FREE_FAILURES + 1)
    ]
    assert codes == [401] * (FREE_FAILURES - 1) + [429, 429]


def test_guesses_sent_at_once_are_counted_one_by_one(live_server: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from agentdesk.server.throttle import FREE_FAILURES

    body = {"username": "parallel.guess", "password": "wrong-wrong-wrong"}

    def guess(_: int) -> int:
        return httpx.post(f"{live_server.url}{LOGIN}", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(guess, range(24)))
    # None is a server error, and no more than the free attempts had a password checked
    assert set(codes) <= {401, 429} and 429 in codes
    assert codes.count(401) <= FREE_FAILURES - 1
    from agentdesk.server.models import LoginFailure

    engine = create_engine(live_server.db_url)
    try:
        with engine.connect() as conn:
            counted = conn.scalar(
                select(LoginFailure.count).where(LoginFailure.key == "user:parallel.guess")
            )
    finally:
        engine.dispose()
    assert counted == FREE_FAILURES
