"""A small HTTP/1.1 server on a raw socket that answers like the Producer API and misbehaves at
the byte level: resets, bodies cut mid-way, stalls, lying headers, poisonous JSON, redirects.

Not the emulator: the emulator is a faithful service; this one is a hostile network and a broken
service. It counts what it received and which task ids it actually delivered in full, so a test
can check that no paid request was sent twice and no delivered id was lost.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

STALL_SECONDS = 1.5
"""How long a "read_timeout" answer stalls (clients in the tests time out well before)."""

PAID_PATHS = ("/producer/audios", "/producer/lyrics", "/producer/wav")

FAULTS = (
    "refused",
    "reset",
    "fin_mid_body",
    "reset_mid_body",
    "read_timeout",
    "429_retry_after",
    "429_bare",
    "500",
    "502_html",
    "503_empty",
    "truncated_json",
    "html_200",
    "empty_200",
    "binary_200",
    "wrong_content_type",
    "gzip_lie",
    "401",
    "403",
    "404",
    "missing_task_id",
    "302_other_host",
    "307_other_host",
    "nan_progress",
    "inf_progress",
    "huge_numbers",
    "deep_nesting",
)
"""Every fault the server can play. ``refused`` is played by the test (no listener at all)."""

DEEP = 5000
HUGE = 10**400


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FaultServer:
    """Serve on 127.0.0.1; play ``fault`` on requests whose path is in ``faulty`` (all of them,
    every time). ``redirect_to`` is the base URL the 3xx faults point at."""

    fault: str = "none"
    faulty: tuple[str, ...] = ()
    redirect_to: str = ""
    id_prefix: str = ""
    lookups_to_finish: int = 2
    received: list[Received] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    refuse_after_paid: bool = False

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._counter = 0
        self._looked: dict[str, int] = {}
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    # -------------------------------------------------------------------------- plumbing

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def count(self, path: str) -> int:
        return sum(1 for r in self.received if r.path == path)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = _read_request(conn)
            if request is None:
                return
            self.received.append(request)
            self._answer(conn, request)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    # -------------------------------------------------------------------------- the service

    def _new_id(self, kind: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{self.id_prefix}{kind}-{self._counter:03d}"

    def _record(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            looked = self._looked[task_id] = self._looked.get(task_id, 0) + 1
        done = looked > self.lookups_to_finish
        item: dict[str, Any] = {
            "id": f"song-{task_id}",
            "title": "Rain",
            "state": "succeeded" if done else "processing",
            "progress": "100%" if done else "40%",
            "audio_url": f"{self.base_url}/media/{'final' if done else 'preview'}/{task_id}.mp3",
            "duration": "181.30",
        }
        record: dict[str, Any] = {
            "id": task_id,
            "type": "audios",
            "created_at": 1767119745.5,
            "started_at": 1767119745.6,
            "request": {"action": "generate"},
            "response": {"task_id": task_id, "data": [item]},
        }
        if done:
            record["finished_at"] = 1767119785.6
        return record

    def normal(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/producer/audios":
            return {"task_id": self._new_id("aud"), "trace_id": "tr-aud"}
        if path == "/producer/lyrics":
            task_id = self._new_id("lyr")
            data = {"title": "Rain", "text": "[Verse]\nrain on the roof"}
            return {"success": True, "task_id": task_id, "trace_id": "tr-lyr", "data": data}
        if path == "/producer/wav":
            task_id = self._new_id("wav")
            data = [{"title": "Rain", "file_url": f"{self.base_url}/media/{task_id}.wav"}]
            return {"success": True, "task_id": task_id, "trace_id": "tr-wav", "data": data}
        if path == "/producer/tasks" and body.get("action") == "retrieve_batch":
            items = [self._record(i) for i in body.get("ids", [])]
            return {"items": items, "count": len(items)}
        if path == "/producer/tasks":
            return self._record(str(body.get("id")))
        return {"success": False, "error": {"code": "no_api", "message": "no such path"}}

    # -------------------------------------------------------------------------- answering

    def _answer(self, conn: socket.socket, request: Received) -> None:
        fault = self.fault if request.path in self.faulty else "none"
        if fault in ("reset", "read_timeout"):
            if fault == "read_timeout":
                time.sleep(STALL_SECONDS)
            _reset(conn)
            return
        if fault == "429_retry_after" or fault == "429_bare":
            headers = {"Retry-After": "0"} if fault == "429_retry_after" else {}
            _send(conn, 429, _error("too_many_requests", "slow down"), headers)
            return
        simple = {
            "500": (500, _error("api_error", "internal fault"), "application/json"),
            "502_html": (502, b"<html><body>502 Bad Gateway</body></html>", "text/html"),
            "503_empty": (503, b"", "text/plain"),
            "401": (401, _error("invalid_token", "The token is not valid."), "application/json"),
            "403": (403, _error("used_up", "Balance used up."), "application/json"),
            "404": (404, _error("no_api", "No such API."), "application/json"),
            "html_200": (200, b"<html><body>Maintenance</body></html>", "text/html"),
            "empty_200": (200, b"", "application/json"),
            "binary_200": (200, bytes(range(256)) * 4, "application/octet-stream"),
        }
        if fault in simple:
            status, payload, kind = simple[fault]
            _send(conn, status, payload, {"Content-Type": kind})
            return
        if fault in ("302_other_host", "307_other_host"):
            status = int(fault[:3])
            _send(conn, status, b"", {"Location": self.redirect_to + request.path})
            return
        answer = self.normal(request.path, request.body)
        if fault == "missing_task_id":
            answer = _without_ids(answer)
        payload = _poison(answer, fault)
        ids = _ids_in(answer)
        if fault in ("fin_mid_body", "reset_mid_body", "truncated_json"):
            cut = _cut_point(payload, ids, after_ids=fault != "reset_mid_body")
            self._deliver(ids, payload[:cut])  # before sending: the client may be quicker
            if fault == "truncated_json":  # a whole answer, just not whole JSON
                _send(conn, 200, payload[:cut], {})
                return
            head = _head(200, len(payload), {"Content-Type": "application/json"})
            conn.sendall(head + payload[:cut])
            if fault == "reset_mid_body":
                _reset(conn)
            else:
                conn.shutdown(socket.SHUT_WR)
            return
        headers = {}
        if fault == "wrong_content_type":
            headers["Content-Type"] = "text/html; charset=iso-8859-1"
        if fault == "gzip_lie":
            headers["Content-Encoding"] = "gzip"
        self._deliver(ids, payload)
        if self.refuse_after_paid and request.path in PAID_PATHS:
            self.close()  # before answering: every later request is then refused
        _send(conn, 200, payload, headers)

    def _deliver(self, ids: list[str], sent: bytes) -> None:
        for task_id in ids:
            if f'"{task_id}"'.encode() in sent:
                self.issued.add(task_id)


# ------------------------------------------------------------------------------ helpers


def _read_request(conn: socket.socket) -> Received | None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    _method, target, _version = lines[0].split(" ", 2)
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    try:
        body = json.loads(rest) if rest else {}
    except ValueError:
        body = {}
    return Received(target.split("?", 1)[0], body if isinstance(body, dict) else {}, headers)


def _head(status: int, length: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {length}", "Connection: close"]
    if not any(k.lower() == "content-type" for k in headers):
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(conn: socket.socket, status: int, payload: bytes, headers: dict[str, str]) -> None:
    conn.sendall(_head(status, len(payload), headers) + payload)


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _error(code: str, message: str) -> bytes:
    return json.dumps({"success": False, "error": {"code": code, "message": message}}).encode()


def _ids_in(answer: dict[str, Any]) -> list[str]:
    """Task ids an answer delivers (a task record's own id, or a submission's task_id)."""
    ids = [answer.get("task_id"), answer.get("id")]
    ids += [item.get("id") for item in answer.get("items", []) if isinstance(item, dict)]
    return [i for i in dict.fromkeys(ids) if isinstance(i, str)]


def _without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in answer.items() if k not in ("task_id", "id")}
    if isinstance(out.get("response"), dict):
        out["response"] = {k: v for k, v in out["response"].items() if k != "task_id"}
    return out


def _poison(answer: dict[str, Any], fault: str) -> bytes:
    """The answer's JSON bytes, with the fault's poison in every song item (or added)."""
    values = {"nan_progress": float("nan"), "inf_progress": float("inf"), "huge_numbers": HUGE}
    if fault in values:
        poison = values[fault]
        items = _song_items(answer)
        if not items:  # a bare submission answer: give it a song to poison
            answer = {**answer, "data": [{"state": "processing"}]}
            items = answer["data"]
        for item in items:
            item["progress"] = poison
            item["duration"] = poison
        if fault == "huge_numbers":
            answer = {**answer, "created_at": HUGE, "elapsed": -HUGE}
    payload = json.dumps(answer).encode()
    if fault == "deep_nesting":
        payload = payload[:-1] + b', "extra": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    return payload


def _song_items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    records = answer.get("items") or [answer]
    items: list[dict[str, Any]] = []
    for record in records:
        response = record.get("response") if isinstance(record, dict) else None
        data = (response or record).get("data") if isinstance(record, dict) else None
        if isinstance(data, list):
            items += [item for item in data if isinstance(item, dict)]
    return items


def _cut_point(payload: bytes, ids: list[str], *, after_ids: bool) -> int:
    """Where to cut a body: just after its first task id (still readable), or before it."""
    if ids:
        at = payload.find(f'"{ids[0]}"'.encode())
        if at >= 0:
            return at + len(ids[0]) + 3 if after_ids else max(1, at - 12)
    return max(1, len(payload) // 2)


def dead_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])
