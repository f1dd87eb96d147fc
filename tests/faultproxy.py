"""A fault-injecting HTTP proxy on loopback, between a real desk and the real server.

Each request gets its own upstream connection (the proxy asks for ``Connection: close``),
so a fault applies to exactly one request. The test sets a schedule: a fault for each of
the next requests, or a function choosing one per request. Faults:

- ``refuse``: stop listening, so connections are refused, until ``accept()``;
- ``delay:S``: hold the request S seconds, then forward it;
- ``cut``: forward the request, send back only half of the server's answer, then close;
- ``reset``: close the client's connection with a TCP reset before forwarding;
- ``lost``: forward the request (the server does the work) and reset instead of answering;
- ``500``, ``502``, ``503``, ``429``: answer that status without forwarding;
- ``garble``: put a malformed event at the head of an event stream's answer.

Counts of what was injected are kept in ``injected``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import Counter
from collections.abc import Callable
from typing import Final

STATUS_TEXT: Final = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FaultProxy:
    """``http://127.0.0.1:<port>`` forwarding to ``upstream_port``, breaking on request."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._schedule: list[str] = []
        self.chooser: Callable[[str], str | None] | None = None
        self.injected: Counter[str] = Counter()
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def refuse(self) -> None:
        """Stop listening: connections are refused until :meth:`accept`."""
        self.injected["refuse"] += 1
        await self.stop()

    async def accept(self) -> None:
        if self._server is None:
            await self.start()

    def schedule(self, *faults: str) -> None:
        """Faults for the next requests, in order (``"ok"`` lets one through)."""
        self._schedule.extend(faults)

    def _next_fault(self, path: str) -> str | None:
        if self._schedule:
            fault = self._schedule.pop(0)
            return None if fault == "ok" else fault
        return self.chooser(path) if self.chooser is not None else None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        path = lines[0].split(b" ")[1].decode("latin-1") if len(lines[0].split(b" ")) > 1 else ""
        length = 0
        kept = [lines[0]]
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() in (b"connection", b"keep-alive"):
                continue
            kept.append(line)
        kept.append(b"Connection: close")
        body = await reader.readexactly(length) if length else b""
        self.requests += 1
        fault = self._next_fault(path)
        if fault is not None:
            self.injected[fault.split(":")[0]] += 1
        if fault is not None and fault.startswith("delay:"):
            await asyncio.sleep(float(fault.split(":", 1)[1]))
            fault = None
        if fault == "reset":
            _reset(writer)
            return
        if fault is not None and fault.isdigit():
            await _answer(writer, int(fault))
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            up_writer.write(b"\r\n".join(kept) + b"\r\n\r\n" + body)
            await up_writer.drain()
            if fault == "lost":
                await up_reader.read()  # the server answers in full; the desk never hears it
                _reset(writer)
                return
            if fault == "garble":
                # A garbled event first on the stream (chunked), then the real stream
                head = await up_reader.readuntil(b"\r\n\r\n")
                writer.write(head)
                junk = b"id: 4242\nevent: contact\ndata: {this is not json\n\n"
                writer.write(f"{len(junk):x}\r\n".encode() + junk + b"\r\n")
                await writer.drain()
                fault = None
            if fault == "cut":
                answer = await up_reader.read()
                writer.write(answer[: max(1, len(answer) // 2)])
                await writer.drain()
                _reset(writer)
                return
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                up_writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST), as a crashed peer or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _answer(writer: asyncio.StreamWriter, status: int) -> None:
    body = b'{"detail": "injected fault"}'
    extra = b"Retry-After: 1\r\n" if status in (429, 503) else b""
    writer.write(
        f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


#: Figures of the fault runs, printed at the end of the test run (and kept in
#: docs/reliability.md): name → text.
FIGURES: dict[str, str] = {}
