"""The site's phone system for the desk figures, as a process of its own.

It posts call events to the server's telephony ingress. Run in the desk's process, its
requests would hold the interpreter lock the desk's GUI thread needs and the stall probe
would count them against the desk; so it runs here and is told what to post, one JSON line
per command on stdin, answering one JSON line on stdout:

``["ring", call_id, number]``, ``["answered", call_id, agent]``, ``["hangup", call_id,
cause]`` → the contact record as the server returned it; ``["burst", numbers]`` → the call
ids still ringing after a ringing call from each number, every third hung up at once.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx


class Phone:
    """The benchmark's handle on a phone-system process (blocking: call it from a thread)."""

    def __init__(self, server: str, token: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.desk_phone", server],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self._lock = threading.Lock()
        self._send(token)

    def _send(self, line: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()

    def _ask(self, *command: Any) -> Any:
        with self._lock:
            self._send(json.dumps(command))
            assert self._proc.stdout is not None
            answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the phone system stopped (exit code {self._proc.poll()})")
        result = json.loads(answer)
        if isinstance(result, dict) and "error" in result:
            raise RuntimeError(f"the phone system failed: {result['error']}")
        return result

    def ring(self, call_id: str, number: str) -> dict[str, Any]:
        contact: dict[str, Any] = self._ask("ring", call_id, number)
        return contact

    def answered(self, call_id: str, agent: str) -> dict[str, Any]:
        contact: dict[str, Any] = self._ask("answered", call_id, agent)
        return contact

    def hangup(self, call_id: str, cause: str = "normal") -> dict[str, Any]:
        contact: dict[str, Any] = self._ask("hangup", call_id, cause)
        return contact

    def burst(self, numbers: list[str]) -> list[str]:
        ringing: list[str] = self._ask("burst", numbers)
        return ringing

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _serve(server: str) -> None:
    token = sys.stdin.readline().strip()
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:

        def post(body: dict[str, Any]) -> dict[str, Any]:
            response = http.post("/api/v1/telephony/events", json=body)
            response.raise_for_status()
            contact: dict[str, Any] = response.json()["contact"]
            return contact

        for line in sys.stdin:
            command, *args = json.loads(line)
            result: Any
            try:
                if command == "ring":
                    result = post({"event": "ringing", "call_id": args[0], "from": args[1]})
                elif command == "answered":
                    result = post({"event": "answered", "call_id": args[0], "agent": args[1]})
                elif command == "hangup":
                    result = post({"event": "hangup", "call_id": args[0], "cause": args[1]})
                elif command == "burst":
                    result = []
                    for n, number in enumerate(args[0]):
                        call_id = f"burst-{n}-{secrets.token_hex(4)}"
                        post({"event": "ringing", "call_id": call_id, "from": number})
                        if n % 3 == 2:
                            post({"event": "hangup", "call_id": call_id, "cause": "cancel"})
                        else:
                            result.append(call_id)
                else:
                    result = {"error": f"unknown command {command!r}"}
            except httpx.HTTPError as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1])
