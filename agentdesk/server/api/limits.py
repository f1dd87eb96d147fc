"""What the server refuses before a route runs, and the error answers every route documents.

* A request body larger than the configured limit is refused with **413**, whether it
  announces its length or is sent in chunks; control characters and broken text anywhere
  in a JSON body or the query string with **422** naming where.
* A body that is not UTF-8 JSON gets **400** saying so.
* Every route's OpenAPI entry lists the error answers it can give (401 unauthenticated,
  403 role, 404 unknown id, 409 edit conflict, 400/413/422 bad bodies, 429 throttled), so
  clients and schema checkers know every shape the server answers with.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from agentdesk.domain.errors import has_unprintable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Problem(BaseModel):
    """An error answer: ``detail`` says what is wrong (a text, or one entry per field)."""

    model_config = ConfigDict(extra="allow")
    detail: Any


DESCRIPTIONS = {
    400: "The body is not UTF-8 JSON",
    401: "Not signed in, or the session has expired",
    403: "Your role may not do this",
    404: "No such record, or none you may see",
    409: "The record was changed since your version",
    413: "The body is larger than the server accepts",
    422: "A field is invalid: each entry names the field and what is expected",
    429: "Too many attempts: wait the seconds in Retry-After",
}


#: Routes that judge each record of a batch on its own.
PER_RECORD = ("/api/v1/sync/push",)


class RequestGuard:
    """Checks every request before a route runs.

    * A body over ``max_bytes`` is refused with 413, whether it announces its length or is
      sent in chunks.
    * Text no field may hold (NUL and other control characters but tab and line breaks,
      unpaired surrogates) in a JSON body or in the query string is refused with 422 naming
      where it is: a database would refuse it later, as a server error.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad_query = _unprintable_query(scope.get("query_string", b""))
        if bad_query is not None:
            await _answer(send, 422, _field_problem(bad_query, "query"))
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length")
        if announced is not None:
            try:
                length = int(announced)
            except ValueError:
                await _answer(send, 400, "Content-Length is not a number")
                return
            if length > self.max_bytes:
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body"):
                break
        whole = b"".join(chunks)
        # A push is answered per record: one bad record is refused on its own, naming its
        # field, and must not hold back the rest of the batch.
        if b"json" in headers.get(b"content-type", b"") and scope["path"] not in PER_RECORD:
            where = _unprintable_json(whole)
            if where is not None:
                await _answer(send, 422, _field_problem(where, "body"))
                return
        message = {"type": "http.request", "body": whole, "more_body": False}
        await self.app(scope, _replay([message]), send)

    async def _too_large(self, send: Send) -> None:
        await _answer(send, 413, f"The request body is too large: at most {self.max_bytes} bytes")


def _field_problem(field: str, part: str) -> list[dict[str, Any]]:
    return [
        {
            "loc": [part, *field.split(".")],
            "field": field,
            "msg": "contains control characters or broken text: type or paste plain text",
            "type": "value_error",
        }
    ]


def _unprintable_query(raw: bytes) -> str | None:
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="surrogateescape")
    except ValueError:
        return "query"
    for name, value in pairs:
        if has_unprintable(name) or has_unprintable(value):
            return name if not has_unprintable(name) else "query"
    return None


def _unprintable_json(body: bytes) -> str | None:
    """Where in a JSON body unprintable text is (``fields.name``), or None. A body that is
    not JSON is left for the route to refuse."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return _walk(document, "")


def _walk(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return (path or "body") if has_unprintable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if has_unprintable(str(key)):
                return here
            found = _walk(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, f"{path}[{index}]" if path else f"[{index}]")
            if found is not None:
                return found
    return None


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _answer(send: Send, status: int, detail: Any) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _codes(
    path: str, method: str, operation: dict[str, Any], throttled: tuple[str, ...]
) -> set[int]:
    """The error answers an operation can give, read from what the document says of it."""
    codes: set[int] = set()
    signed_in = "security" in operation
    if signed_in:
        codes |= {401, 403}
    if path.startswith(("/api/v1/auth/", "/api/v1/telephony", "/api/v1/cti", "/api/v1/events")):
        codes.add(401)
    if "{" in path:
        codes.add(404 if signed_in else 401)
    if method in ("post", "put", "patch"):
        codes |= {400, 413, 422}
    if path.startswith("/api/v1/customers") and method in ("post", "put"):
        codes.add(409)
    if path in throttled:
        codes.add(429)
    return codes


def document_errors(app: FastAPI, *, throttled: tuple[str, ...] = ()) -> None:
    """Make the OpenAPI document list the error answers each route can give."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema()
        problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                for code in sorted(_codes(path, method, operation, throttled)):
                    operation.setdefault("responses", {}).setdefault(
                        str(code), {"description": DESCRIPTIONS[code], "content": problem}
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
