"""The REST client of the desk (httpx, asyncio): sign-in, token renewal, push and pull."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from agentdesk.sync.pages import PageUnreadable, read_page
from agentdesk.wire import (
    AuditEntryPublic,
    ChangesPage,
    CustomerList,
    Directory,
    Mutation,
    PushRequest,
    PushResponse,
    ScriptPublic,
    SitePublic,
    StandardAnswerIn,
    StandardAnswerPublic,
    TokenPair,
    UserPublic,
)

_Model = TypeVar("_Model", bound=BaseModel)


def _read(model: type[_Model], content: bytes) -> _Model:
    """A big answer (a page of changes, a pushed batch's results) read straight from its
    bytes."""
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            # A reply cut short or garbled in transit: treat it like a lost connection.
            raise Offline(f"unreadable response: {exc}") from exc
        raise


def _read_changes(content: bytes) -> ChangesPage:
    try:
        return read_page(content)
    except PageUnreadable as exc:
        # A reply cut short or garbled in transit: treat it like a lost connection.
        raise Offline(f"unreadable response: {exc}") from exc


def _event(fields: dict[str, str]) -> ServerEvent:
    """An event as the stream gave it; a garbled one comes back as kind ``malformed`` (with
    what could be read), for the listener to report and skip."""
    kind = fields.get("event", "message")
    try:
        event_id = int(fields["id"])
    except ValueError:
        return ServerEvent(-1, "malformed", {"kind": kind, "problem": "the event id"})
    try:
        data = json.loads(fields["data"])
    except ValueError:
        return ServerEvent(event_id, "malformed", {"kind": kind, "problem": "the data"})
    if not isinstance(data, dict):
        return ServerEvent(event_id, "malformed", {"kind": kind, "problem": "the data"})
    return ServerEvent(event_id, kind, data)


class ApiError(Exception):
    """The server answered with an error the user has to act on."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"HTTP {status}: {detail}")

    def field_errors(self) -> dict[str, str]:
        if isinstance(self.detail, list):
            return {
                str(e.get("field") or ".".join(map(str, e.get("loc", [])[1:]))): str(e.get("msg"))
                for e in self.detail
                if isinstance(e, dict)
            }
        return {}


class Offline(Exception):
    """The server could not be reached (refused, timed out, cut off)."""


class ServerTrouble(Exception):
    """The server is up but failing or overloaded (5xx, 429); try again later."""

    def __init__(self, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"server answered {status}")


class SignInRequired(Exception):
    """No valid session: the saved sign-in expired or was revoked."""


@dataclass(frozen=True)
class ServerEvent:
    """One server-sent event: its id (to resume after), its kind and its data."""

    id: int
    kind: str
    data: dict[str, Any]


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return body.get("detail", body) if isinstance(body, dict) else body


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """How the desk checks the server's certificate: always, against the system's
    authorities, or against ``ca_bundle`` (``AGENTDESK_CA_BUNDLE``) for a server whose
    certificate an in-house authority signed. Raises ValueError for a bundle that cannot be
    read."""
    path = ca_bundle if ca_bundle is not None else os.environ.get("AGENTDESK_CA_BUNDLE", "")
    if not path:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"the CA bundle {path} cannot be read: {exc}") from None


class ApiClient:
    """One signed-in connection to an AgentDesk server."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_refresh_token: Callable[[str], None] | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            verify=tls_context(ca_bundle),
            headers={"User-Agent": "AgentDesk"},
        )
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.user: UserPublic | None = None
        self._on_refresh_token = on_refresh_token
        self._refresh_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- low level ----------------------------------------------------------------------

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        try:
            return await self._http.request(method, path, headers=headers, **kwargs)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise Offline(f"{type(exc).__name__}: {exc}") from exc

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request, renewing the access token once if it has expired."""
        return self._check(await self._answered(method, path, **kwargs))

    async def _answered(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The server's successful answer (2xx); raises for anything else."""
        token_used = self.access_token
        response = await self._send(method, path, **kwargs)
        if response.status_code == 401 and self.refresh_token:
            await self._renew(token_used)
            response = await self._send(method, path, **kwargs)
        self._check_status(response)
        return response

    def _check(self, response: httpx.Response) -> Any:
        self._check_status(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            # A reply cut short or garbled in transit: treat it like a lost connection.
            raise Offline(f"unreadable response: {exc}") from exc

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 401:
            raise SignInRequired(str(_detail(response)))
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After")
            try:
                delay = float(retry_after) if retry_after else None
            except ValueError:
                delay = None
            raise ServerTrouble(status, delay)
        if status >= 400:
            raise ApiError(status, _detail(response))

    async def _renew(self, token_used: str | None) -> None:
        async with self._refresh_lock:
            if self.access_token != token_used:
                return  # another request renewed it meanwhile
            if not self.refresh_token:
                raise SignInRequired("no saved sign-in")
            response = await self._send(
                "POST", "/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}
            )
            if response.status_code in (400, 401, 422):
                self.access_token = None
                self.refresh_token = None
                raise SignInRequired(str(_detail(response)))
            self._take_tokens(TokenPair.model_validate(self._check(response)))

    def _take_tokens(self, pair: TokenPair) -> None:
        self.access_token = pair.access_token
        self.refresh_token = pair.refresh_token
        self.user = pair.user
        if self._on_refresh_token is not None:
            self._on_refresh_token(pair.refresh_token)

    # --- API ----------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> UserPublic:
        response = await self._send(
            "POST", "/api/v1/auth/login", json={"username": username, "password": password}
        )
        pair = TokenPair.model_validate(self._check(response))
        self._take_tokens(pair)
        return pair.user

    async def resume(self, refresh_token: str) -> UserPublic:
        """Sign in again with a saved refresh token."""
        self.refresh_token = refresh_token
        self.access_token = None
        await self._renew(None)
        assert self.user is not None
        return self.user

    async def logout(self) -> None:
        if self.refresh_token:
            # The token expires on its own; signing out locally must work offline too.
            with contextlib.suppress(Offline, ServerTrouble, SignInRequired, ApiError):
                await self.request(
                    "POST", "/api/v1/auth/logout", json={"refresh_token": self.refresh_token}
                )
        self.access_token = self.refresh_token = None

    async def health(self) -> bool:
        try:
            response = await self._send("GET", "/healthz")
        except Offline:
            return False
        return response.status_code == 200

    async def push(self, device_id: str, mutations: list[Mutation]) -> PushResponse:
        body = PushRequest(device_id=device_id, mutations=mutations)
        response = await self._answered(
            "POST",
            "/api/v1/sync/push",
            content=body.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        # Hundreds of records: read off the event loop, like a page of changes.
        return await asyncio.to_thread(_read, PushResponse, response.content)

    async def scripts(self) -> list[ScriptPublic]:
        """The newest published call scripts."""
        data = await self.request("GET", "/api/v1/scripts")
        return [ScriptPublic.model_validate(item) for item in data]

    async def audit(self, customer_id: str) -> list[AuditEntryPublic]:
        """A customer's audit trail, newest change first."""
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/audit")
        return [AuditEntryPublic.model_validate(item) for item in data]

    async def standard_answers(self) -> list[StandardAnswerPublic]:
        """The newest published standard answers (the scenarios' model answers)."""
        data = await self.request("GET", "/api/v1/training/answers")
        return [StandardAnswerPublic.model_validate(item) for item in data]

    async def trainees(self) -> list[UserPublic]:
        """Everyone a supervisor can assign scenarios to."""
        data = await self.request("GET", "/api/v1/training/trainees")
        return [UserPublic.model_validate(item) for item in data]

    async def publish_answer(self, answer: StandardAnswerIn) -> StandardAnswerPublic:
        """Publish a standard answer to every desk (supervisors); a 422 names the field."""
        data = await self.request(
            "POST",
            "/api/v1/training/answers",
            content=answer.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return StandardAnswerPublic.model_validate(data)

    async def site(self) -> SitePublic:
        """The site's rules for desks (the check-back interval)."""
        return SitePublic.model_validate(await self.request("GET", "/api/v1/site"))

    async def directory(self) -> Directory:
        """Colleagues and teams a call can be transferred to."""
        return Directory.model_validate(await self.request("GET", "/api/v1/directory"))

    async def changes(self, since: int, limit: int) -> ChangesPage:
        response = await self._answered(
            "GET", "/api/v1/sync/changes", params={"since": since, "limit": limit}
        )
        # A page of a first sync is megabytes of JSON: read off the event loop, and a
        # change at a time, so the desk stays responsive while it arrives.
        return await asyncio.to_thread(_read_changes, response.content)

    async def events(
        self, last_event_id: int | None, *, heartbeat: float = 15
    ) -> AsyncIterator[ServerEvent]:
        """The server's event stream, from just after ``last_event_id`` (or from now)."""
        for attempt in range(2):
            headers = {"Accept": "text/event-stream"}
            if self.access_token:
                headers["Authorization"] = f"Bearer {self.access_token}"
            if last_event_id is not None:
                headers["Last-Event-ID"] = str(last_event_id)
            token_used = self.access_token
            timeout = httpx.Timeout(connect=5.0, read=heartbeat * 3, write=10.0, pool=5.0)
            try:
                async with self._http.stream(
                    "GET",
                    "/api/v1/events",
                    params={"heartbeat": heartbeat},
                    headers=headers,
                    timeout=timeout,
                ) as response:
                    if response.status_code == 401 and attempt == 0 and self.refresh_token:
                        await self._renew(token_used)
                        continue
                    if response.status_code != 200:
                        await response.aread()
                        self._check(response)
                        return
                    fields: dict[str, str] = {}
                    async for line in response.aiter_lines():
                        if line == "":
                            if "data" in fields and "id" in fields:
                                yield _event(fields)
                            fields = {}
                        elif not line.startswith(":"):
                            name, _, value = line.partition(":")
                            fields[name] = value.removeprefix(" ")
            except (httpx.TransportError, httpx.DecodingError) as exc:
                raise Offline(f"{type(exc).__name__}: {exc}") from exc
            return

    async def search(self, query: str, limit: int = 50) -> CustomerList:
        data = await self.request("GET", "/api/v1/customers", params={"q": query, "limit": limit})
        return CustomerList.model_validate(data)
