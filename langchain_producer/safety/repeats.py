"""Tool calls whose paid request already went out, so that a retry never sends one again.

Agents do not repeat a tool call id; LangChain's ``ToolRetryMiddleware`` does, with the same
arguments, when a tool raises (these tools raise only with ``handle_tool_error=False``). A call
is remembered by its tool call id *and* what it asked for: the same id with other arguments (a
hand-written ``ToolCall`` reused in a notebook) is another call and goes out.
"""

from __future__ import annotations

import json
import threading
from typing import Any

KEPT = 10_000
"""Calls remembered per toolkit; the oldest are forgotten first."""


class SentCalls:
    """Each sent paid call: its tool call id and request, and its task id (None: answer lost)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, str], str | None] = {}

    @staticmethod
    def _key(call_id: str, tool: str, arguments: dict[str, Any]) -> tuple[str, str]:
        request = json.dumps([tool, arguments], sort_keys=True, default=str)
        return call_id, request

    def note(self, call_id: str, tool: str, arguments: dict[str, Any], task_id: str | None) -> None:
        """Remember that this call's paid request went out (accepted as ``task_id``, or None)."""
        with self._lock:
            self._sent[self._key(call_id, tool, arguments)] = task_id
            while len(self._sent) > KEPT:
                del self._sent[next(iter(self._sent))]

    def earlier(
        self, call_id: str, tool: str, arguments: dict[str, Any]
    ) -> tuple[bool, str | None]:
        """Whether this very call was sent before, and the task id it was accepted as."""
        key = self._key(call_id, tool, arguments)
        with self._lock:
            return (True, self._sent[key]) if key in self._sent else (False, None)
