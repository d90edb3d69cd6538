"""A receiver for the service's callbacks (webhooks): an ASGI app that records finished tasks.

With ``callback_url`` set, the service POSTs a task's final body (the same JSON as a synchronous
answer: ``success``, ``task_id``, ``trace_id``, ``data``) to that URL when the task ends. The
vendor documents no signature, so the receiver trusts nothing it is sent:

* the URL carries a secret (``POST /producer/callback/{secret}``), compared in constant time;
  a wrong one answers 404 and nothing is recorded or logged;
* the body is capped (413), must be a JSON object (400) and name a task this deployment
  submitted (one the journal in ``store`` holds); any other task id is ignored (202);
* the body is never believed: the task is looked up once (``client.aget_task``, free) and only
  a terminal record from the service is recorded, under ``("langchain_producer", "callbacks")``
  keyed by task id (``confirmed()`` reads it), once: a second delivery changes nothing and
  ``on_confirmed`` runs once per task, after the answer is sent;
* once recorded, the waits on that task in this process are woken at once
  (``drivers.listening.announce``); those in other processes on the same store read it
  within a fraction of a second (``drivers.listening``).

Starlette is an optional dependency (``pip install 'langchain-producer[webhooks]'``), imported
only by ``create_app``. Run the app without an access log (``uvicorn --no-access-log``): an
access log prints the path, and the path is the secret.

Example:
    >>> from langgraph.store.memory import InMemoryStore
    >>> from langchain_producer import ProducerClient
    >>> from langchain_producer.emulator import ProducerEmulator
    >>> secret = "s3cret-0123456789abcdef"
    >>> url = callback_url("https://hooks.example.com", secret)
    >>> client = ProducerClient(api_key="demo", transport=ProducerEmulator().transport,
    ...                         callback_url=url)
    >>> app = create_app(store=InMemoryStore(), secret=secret, client=client)
    >>> [route.path for route in app.routes]
    ['/producer/callback/{secret}']
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from langchain_producer._constants import CALLBACK_ROUTE
from langchain_producer.drivers.listening import (
    CALLBACKS,
    announce,
    aread_confirmed,
    read_confirmed,
)
from langchain_producer.errors import ProducerError, TaskNotFoundError
from langchain_producer.models import ProducerTask
from langchain_producer.safety.journal import (
    DEFAULT_TTL_MINUTES,
    NAMESPACE,
    JournalEntry,
    store_call,
)
from langchain_producer.settings import callback_url, check_callback_secret

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore
    from starlette.applications import Starlette
    from starlette.requests import Request

    from langchain_producer.client import ProducerClient

logger = logging.getLogger("langchain_producer")

ROUTE = CALLBACK_ROUTE
"""The receiver's one route; ``{secret}`` is the deployment's callback secret."""
DEFAULT_MAX_BODY = 1 << 20
INSTALL_HINT = "pip install 'langchain-producer[webhooks]'"

OnConfirmed = Callable[[ProducerTask, JournalEntry], Awaitable[None] | None]
"""Called once per confirmed task, after the answer is sent (to wake the thread, say)."""

_TASK_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


async def submitted_entry(store: BaseStore, task_id: str) -> JournalEntry | None:
    """The journal entry of ``task_id`` in any thread, or None if this deployment never sent it.

    Cost: the journal is keyed by thread and tool call id, not by task id, so this is a search
    of the whole journal (every thread) with a ``task_id`` filter. ``InMemoryStore`` scans its
    entries in Python; ``PostgresStore`` runs one query whose namespace prefix uses its prefix
    index but whose ``value->'task_id'`` test has no index: a scan of the live journal (entries
    expire after the journal's TTL, a week by default). One query per callback; the waits read
    the ``CALLBACKS`` item by key instead, which is cheap.
    """
    items = await store_call(
        store.asearch, store.search, NAMESPACE, filter={"task_id": task_id}, limit=1
    )
    return JournalEntry.model_validate(items[0].value) if items else None


def confirmed(store: BaseStore, task_id: str) -> ProducerTask | None:
    """The task as the receiver confirmed it with the service (terminal), or None (not yet)."""
    return read_confirmed(store, task_id)


async def aconfirmed(store: BaseStore, task_id: str) -> ProducerTask | None:
    """Async ``confirmed``."""
    return await aread_confirmed(store, task_id)


Answer = tuple[int, dict[str, Any], tuple[ProducerTask, JournalEntry] | None]


class _Receiver:
    """The checks and the recording, apart from Starlette (which ``create_app`` wires in)."""

    def __init__(
        self,
        store: BaseStore,
        secret: bytes,
        client: ProducerClient,
        on_confirmed: OnConfirmed | None,
        max_body: int,
        lookup_timeout: float,
    ) -> None:
        self.store = store
        self.secret = secret
        self.client = client
        self.on_confirmed = on_confirmed
        self.max_body = max_body
        self.lookup_timeout = lookup_timeout
        # Task ids being recorded now: with no await between the test and the add, two
        # deliveries of one task in this process cannot both record it. Across processes the
        # store offers no compare-and-set; a duplicate there may be recorded (same value) twice.
        self.claimed: set[str] = set()

    async def answer(self, request: Request) -> Answer:
        """Every outcome as (status, JSON body, what to wake); never raises."""
        try:
            return await self._answer(request)
        except Exception as error:  # nothing escapes to the service
            # 503: the service may deliver again; a lost callback is still caught by polling.
            logger.warning("Producer callback not handled (%s): answered 503", type(error).__name__)
            return 503, {"recorded": False, "retry": True}, None

    async def _answer(self, request: Request) -> Answer:
        given = request.path_params.get("secret", "")
        if not hmac.compare_digest(str(given).encode(), self.secret):
            return 404, {}, None  # answered as Starlette answers any unknown path
        raw = await self._read(request)
        if raw is None:
            return 413, {"error": f"body over {self.max_body} bytes"}, None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return 400, {"error": "body is not JSON"}, None
        if not isinstance(body, dict):
            return 400, {"error": "body is not a JSON object"}, None
        task_id = body.get("task_id")
        if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
            return 400, {"error": "body has no valid task_id"}, None
        entry = await submitted_entry(self.store, task_id)
        if entry is None:
            logger.info("Producer callback ignored: task %s was not submitted here", task_id)
            return 202, {"ignored": True}, None
        if await aconfirmed(self.store, task_id) is not None:
            return 200, {"recorded": True, "duplicate": True}, None
        try:
            task = await asyncio.wait_for(self.client.aget_task(task_id), self.lookup_timeout)
        except TaskNotFoundError:
            logger.warning("Producer callback for task %s: the service knows no such task", task_id)
            return 202, {"recorded": False}, None
        except (ProducerError, TimeoutError) as error:
            logger.warning(
                "Producer callback for task %s: confirming look-up failed (%s): answered 503",
                task_id,
                type(error).__name__,
            )
            return 503, {"recorded": False, "retry": True}, None
        if not task.is_terminal:
            logger.warning(
                "Producer callback for task %s not confirmed: the service says %s",
                task_id,
                task.state,
            )
            return 202, {"recorded": False, "state": task.state}, None
        return await self._record(task_id, task, entry)

    async def _read(self, request: Request) -> bytes | None:
        """The body, or None past ``max_body`` (read chunk by chunk: a length header may lie)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _record(self, task_id: str, task: ProducerTask, entry: JournalEntry) -> Answer:
        if task_id in self.claimed:
            return 200, {"recorded": True, "duplicate": True}, None
        self.claimed.add(task_id)
        try:
            if await aconfirmed(self.store, task_id) is not None:
                return 200, {"recorded": True, "duplicate": True}, None
            value = {
                "task_id": task_id,
                "state": task.state,
                "record": task.raw,
                "confirmed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "thread_id": entry.thread_id,
                "key": entry.key,
            }
            ttl = {"ttl": DEFAULT_TTL_MINUTES} if getattr(self.store, "supports_ttl", False) else {}
            await store_call(
                self.store.aput, self.store.put, CALLBACKS, task_id, value, index=False, **ttl
            )
        finally:
            self.claimed.discard(task_id)
        announce(task_id)  # this process's waits on the task wake now, without a look-up
        logger.info("Producer callback for task %s confirmed: %s", task_id, task.state)
        return 200, {"recorded": True, "state": task.state}, (task, entry)

    async def wake(self, task: ProducerTask, entry: JournalEntry) -> None:
        """Run ``on_confirmed`` (after the answer is sent); its failure is logged, not raised."""
        if self.on_confirmed is None:
            return
        try:
            outcome = self.on_confirmed(task, entry)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as error:  # recorded already: say so, go on
            logger.warning(
                "on_confirmed failed for task %s (%s)", task.task_id, type(error).__name__
            )


def create_app(
    *,
    store: BaseStore,
    secret: str | SecretStr,
    client: ProducerClient,
    on_confirmed: OnConfirmed | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    lookup_timeout: float = 10.0,
) -> Starlette:
    """The receiver: a Starlette app with one route, ``POST /producer/callback/{secret}``.

    Args:
        store: The store the deployment's journal is in (the same ``BaseStore``).
        secret: The secret path segment (16+ URL-safe characters; ``secrets.token_urlsafe``).
        client: Confirms each callback with one look-up (``aget_task``) of its task.
        on_confirmed: Called once per task recorded, ``(task, journal_entry)``, after the
            answer; may be a coroutine function.
        max_body: The largest body read (bytes); larger ones answer 413.
        lookup_timeout: Seconds the confirming look-up may take before the answer is 503.

    Answers: 404 wrong secret; 413 body too large; 400 not a JSON object with a task id;
    202 ``{"ignored": true}`` task not submitted here; 202 ``{"recorded": false}`` the service
    says the task is not finished; 200 ``{"recorded": true}`` recorded (or already was);
    503 the look-up or the store failed (the service may deliver again).

    Raises:
        ImportError: Starlette is not installed.
        ValueError: The secret is too short or not URL-safe.
    """
    try:
        from starlette.applications import Starlette
        from starlette.background import BackgroundTask
        from starlette.responses import JSONResponse, PlainTextResponse, Response
        from starlette.routing import Route
    except ImportError as error:
        raise ImportError(f"The webhook receiver needs Starlette: {INSTALL_HINT}") from error
    if max_body < 1:
        raise ValueError("max_body must be at least 1 byte")
    receiver = _Receiver(
        store,
        check_callback_secret(secret).encode(),
        client,
        on_confirmed,
        max_body,
        lookup_timeout,
    )

    async def callback(request: Request) -> Response:
        status, body, wake = await receiver.answer(request)
        if status == 404:  # a wrong secret looks like no route at all
            return PlainTextResponse("Not Found", status_code=404)
        background = BackgroundTask(receiver.wake, *wake) if wake is not None else None
        return JSONResponse(body, status_code=status, background=background)

    return Starlette(routes=[Route(ROUTE, callback, methods=["POST"])])


__all__ = [
    "CALLBACKS",
    "DEFAULT_MAX_BODY",
    "ROUTE",
    "OnConfirmed",
    "aconfirmed",
    "callback_url",
    "confirmed",
    "create_app",
    "submitted_entry",
]
