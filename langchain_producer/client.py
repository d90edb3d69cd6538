"""``ProducerClient``: the typed Producer API, sync and async, usable without any LangChain tool."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import httpx
from pydantic import BaseModel, SecretStr

from langchain_producer import _api, _paid_calls
from langchain_producer import download as _download
from langchain_producer import journal as _journal
from langchain_producer._answers import Collector, Reply
from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.errors import ProducerError, ProducerValidationError, TaskNotFoundError
from langchain_producer.journal import BeforeSubmit, PaidOptions, PlanOptions
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    TaskBatch,
    UploadedAudio,
    Video,
    WavResult,
)
from langchain_producer.params import AudioParams
from langchain_producer.settings import ProducerSettings
from langchain_producer.settings import check_http_url as _check_http_url

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)
logger = logging.getLogger("langchain_producer")
OnProgress = Callable[[ProducerTask], Any]
"""Called with the task each time a wait looks at it; may be a coroutine function when async."""


class ProducerClient:
    """A client for the AceDataCloud Producer music API.

    One ``httpx.Client`` and one ``httpx.AsyncClient`` (per event loop) are kept alive and reused.
    Submissions are made with ``async: true`` and followed by polling the task, so a call never
    holds a connection open for the minutes a song takes.

    Args:
        settings: A ``ProducerSettings``; or, as before, the API key. Leave it out to give the
            settings as keywords.
        **overrides: Any field of ``ProducerSettings`` (``api_key``, ``base_url``, ``timeout``,
            ``max_retries``, ``default_model``, ``callback_url``, ``poll_interval``,
            ``max_poll_interval``, ``transport``, ``http_client``, ``http_async_client``);
            with ``settings``, they replace its values.

    Attributes:
        settings: Everything this client was configured with (validated, read-only).

    Raises:
        ProducerValidationError: A setting is unknown or invalid, or no API key is found.

    Injected ``http_client`` / ``http_async_client`` belong to the caller: ``close()`` and
    ``aclose()`` close only the clients this object made.

    Examples:
        >>> from langchain_producer import ProducerClient, Generate
        >>> from langchain_producer.emulator import ProducerEmulator
        >>> emulator = ProducerEmulator(pending_seconds=0.1, processing_seconds=0.3)
        >>> client = ProducerClient(api_key="demo", transport=emulator.transport, poll_interval=0.1)
        >>> task = client.submit(Generate(prompt="lo-fi beat for studying"), wait=True)
        >>> task.state
        'complete'
    """

    def __init__(
        self, settings: ProducerSettings | str | SecretStr | None = None, **overrides: Any
    ) -> None:
        if isinstance(settings, ProducerSettings):
            if overrides:
                settings = ProducerSettings(**{**dict(settings), **overrides})
        else:
            if settings is not None:  # the API key, the first positional argument of old
                overrides = {"api_key": settings, **overrides}
            settings = ProducerSettings(**overrides)
        self.settings: ProducerSettings = settings
        self.retry_policy = _api.RetryPolicy(max_retries=settings.max_retries)
        self.poll_schedule = _api.PollSchedule(
            first=settings.poll_interval, cap=settings.max_poll_interval
        )
        self._own_http: httpx.Client | None = None
        self._async_by_loop: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._lookups_by_loop: dict[asyncio.AbstractEventLoop, _SharedLookups] = {}

    def __repr__(self) -> str:
        return f"ProducerClient(base_url={self.base_url!r}, default_model={self.default_model!r})"

    # The settings the rest of the package reads, by their old names.

    @property
    def api_key(self) -> SecretStr:
        return self.settings.api_key

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def timeout(self) -> float | httpx.Timeout:
        return self.settings.timeout

    @property
    def default_model(self) -> str:
        return self.settings.default_model

    @property
    def callback_url(self) -> str | None:
        return self.settings.callback_url

    @property
    def store(self) -> BaseStore | None:
        return self.settings.store  # type: ignore[no-any-return]

    # ----------------------------------------------------------------------------------------
    # Connections. Clients the caller injected are theirs: used, never closed here.

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key.get_secret_value()}",
            "Accept": "application/json",
        }

    @property
    def http(self) -> httpx.Client:
        """The kept-alive sync ``httpx.Client``: the injected one, else one made on first use."""
        if self.settings.http_client is not None:
            return self.settings.http_client
        if self._own_http is None:
            transport = self.settings.transport
            self._own_http = httpx.Client(
                timeout=self.timeout,
                transport=transport if isinstance(transport, httpx.BaseTransport) else None,
            )
        return self._own_http

    @property
    def http_async(self) -> httpx.AsyncClient:
        """The kept-alive ``httpx.AsyncClient`` of the running event loop.

        An AsyncClient's connections belong to the loop that opened them, so each loop gets its
        own (LangGraph and notebooks may run tools on several loops). An injected
        ``http_async_client`` is used as it is, on every loop.
        """
        if self.settings.http_async_client is not None:
            return self.settings.http_async_client
        loop = asyncio.get_running_loop()
        client = self._async_by_loop.get(loop)
        if client is None:
            for stale in [old for old in self._async_by_loop if old.is_closed()]:
                del self._async_by_loop[stale]
            transport = self.settings.transport
            client = httpx.AsyncClient(
                timeout=self.timeout,
                transport=transport if isinstance(transport, httpx.AsyncBaseTransport) else None,
            )
            self._async_by_loop[loop] = client
        return client

    def _lookups(self) -> _SharedLookups:
        loop = asyncio.get_running_loop()
        lookups = self._lookups_by_loop.get(loop)
        if lookups is None:
            for stale in [old for old in self._lookups_by_loop if old.is_closed()]:
                del self._lookups_by_loop[stale]
            lookups = self._lookups_by_loop[loop] = _SharedLookups(self)
        return lookups

    def close(self) -> None:
        """Close the sync connections this client made (the async ones: ``aclose``)."""
        if self._own_http is not None:
            self._own_http.close()
            self._own_http = None

    async def aclose(self) -> None:
        """Close the async connections this client made on the running loop."""
        client = self._async_by_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def __enter__(self) -> ProducerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ProducerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------------------
    # Drivers: run a plan (see ``langchain_producer._api``) synchronously or asynchronously.
    # Every public method is a plan plus one of these, so sync and async never drift apart.

    def run(self, plan: _api.Plan[T], on_progress: OnProgress | None = None) -> T:
        """Drive a plan to its result, blocking. Advanced: the public methods wrap this."""
        outcome: Any = None
        failure: ProducerError | None = None
        try:
            while True:
                step = plan.throw(failure) if failure else plan.send(outcome)
                failure = None
                if isinstance(step, _api.Send):
                    outcome = self._post(step)
                elif isinstance(step, _api.Lookup):
                    try:
                        outcome = self.run(self.plan_get_task(step.task_id))
                    except ProducerError as error:  # the plan decides what it means
                        failure = error
                elif isinstance(step, _api.Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                elif isinstance(step, _api.Now):
                    outcome = time.monotonic()
                elif isinstance(step, _api.Effect):
                    outcome = step.run()
                else:
                    outcome = on_progress(step.task) if on_progress else None
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except ProducerError as error:
            raise error.redact(self.api_key.get_secret_value()) from error.__cause__

    async def arun(self, plan: _api.Plan[T], on_progress: OnProgress | None = None) -> T:
        """Drive a plan to its result on the running event loop."""
        outcome: Any = None
        failure: ProducerError | None = None
        try:
            while True:
                step = plan.throw(failure) if failure else plan.send(outcome)
                failure = None
                if isinstance(step, _api.Send):
                    outcome = await self._apost(step)
                elif isinstance(step, _api.Lookup):
                    try:
                        outcome = await self._lookups().get(step.task_id)
                    except ProducerError as error:
                        failure = error
                elif isinstance(step, _api.Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                elif isinstance(step, _api.Now):
                    outcome = time.monotonic()
                elif isinstance(step, _api.Effect):
                    outcome = await step.arun()
                else:
                    outcome = on_progress(step.task) if on_progress else None
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except ProducerError as error:
            raise error.redact(self.api_key.get_secret_value()) from error.__cause__

    def _request(self, http: httpx.Client | httpx.AsyncClient, step: _api.Send) -> httpx.Request:
        return http.build_request(
            "POST", self.base_url + step.path, json=step.body, headers=self._headers
        )

    # Both exchanges hand the plan the raw answer (decoded in ``_answers``, the one place) or
    # whatever stopped them: any exception of a transport is a failed exchange, never a crash.
    # Redirects are never followed, whatever the http client's own setting: a redirected
    # paid POST would create (and bill) a job on another host.

    def _post(self, step: _api.Send) -> Reply | Exception:
        try:
            response = self.http.send(
                self._request(self.http, step), stream=True, follow_redirects=False
            )
        except Exception as error:  # reported to the plan, which decides
            return error
        collector = Collector(response)
        try:
            for chunk in collector.already_read() or response.iter_raw():
                if not collector.add(chunk):
                    return collector.reply("an answer too large to be the API's")
        except Exception as error:  # a body cut short: keep what arrived
            return collector.reply(error)
        finally:
            response.close()
        return collector.reply()

    async def _apost(self, step: _api.Send) -> Reply | Exception:
        http = self.http_async
        try:
            response = await http.send(
                self._request(http, step), stream=True, follow_redirects=False
            )
        except Exception as error:  # reported to the plan, which decides
            return error
        collector = Collector(response)
        try:
            for chunk in collector.already_read():
                collector.add(chunk)
            async for chunk in collector.unread(response):
                if not collector.add(chunk):
                    return collector.reply("an answer too large to be the API's")
        except Exception as error:  # a body cut short: keep what arrived
            return collector.reply(error)
        finally:
            await response.aclose()
        return collector.reply()

    # ----------------------------------------------------------------------------------------
    # Plans: each operation once, validated before anything is sent.

    def plan_submit(
        self,
        params: AudioParams,
        *,
        wait: bool = False,
        max_wait: float = 600.0,
        key: str | None = None,
        before_submit: BeforeSubmit | None = None,
        tool: str | None = None,
    ) -> _api.Plan[ProducerTask]:
        """Submit an audios action once per journal key; with ``wait``, then wait for it."""
        if not isinstance(params, AudioParams):
            raise ProducerValidationError(
                f"submit() takes an action from langchain_producer.params, not {type(params)}.",
                hint="For example: client.submit(Generate(prompt='lo-fi beat')).",
            )
        call = self._paid_call(
            params.action, _api.AUDIOS, params.wire_fields(), key, before_submit, tool
        )
        send = _api.submit_audio(
            params,
            default_model=self.default_model,
            callback_url=self.callback_url,
            policy=self.retry_policy,
        )
        done = yield from _paid_calls.submit_once(call, send, task_id_of=lambda t: t.task_id)
        if done.result is None:
            assert done.entry is not None  # a call not sent now was found in the journal
            task = yield from _paid_calls.resume_task(
                done.entry, wait=wait, max_wait=max_wait, schedule=self.poll_schedule
            )
            return done.stamp(task)
        task = done.result
        # The paid task's id, the one thing that must never be lost, is told at once to the log
        # and to whoever follows progress, before any waiting that might be interrupted.
        logger.info("Producer %s task %s accepted", params.action, task.task_id)
        yield _api.Progress(task)
        if wait and not task.is_terminal:
            task = yield from _api.wait(
                task.task_id, max_wait=max_wait, schedule=self.poll_schedule, just_submitted=True
            )
        return done.stamp(task)

    def plan_get_task(self, task_id: str) -> _api.Plan[ProducerTask]:
        return _api.get_task(_check_id(task_id), self.retry_policy)

    def plan_get_tasks(
        self, task_ids: Sequence[str], *, max_wait: float = 0.0
    ) -> _api.Plan[TaskBatch]:
        ids = list(dict.fromkeys(_check_id(task_id) for task_id in task_ids))
        if not ids or len(ids) > BATCH_MAX_IDS:
            raise ProducerValidationError(
                f"A batch look-up takes 1 to {BATCH_MAX_IDS} task ids, got {len(ids)}.",
                hint=f"Split the ids into groups of at most {BATCH_MAX_IDS}.",
            )
        return _api.wait_all(
            ids, max_wait=max_wait, schedule=self.poll_schedule, policy=self.retry_policy
        )

    def plan_wait(self, task_id: str, *, max_wait: float = 600.0) -> _api.Plan[ProducerTask]:
        return _api.wait(_check_id(task_id), max_wait=max_wait, schedule=self.poll_schedule)

    def plan_lyrics(self, prompt: str, **paid: Unpack[PlanOptions]) -> _api.Plan[Lyrics]:
        body = {"prompt": _check_text(prompt, "prompt")}
        return self._paid("lyrics", _api.LYRICS, body, _api.parse_lyrics, **paid)

    def plan_upload(self, audio_url: str, **paid: Unpack[PlanOptions]) -> _api.Plan[UploadedAudio]:
        body = {"audio_url": _check_http_url(audio_url, "audio_url")}
        return self._paid("upload", _api.UPLOAD, body, _api.parse_upload, **paid)

    def plan_video(self, audio_id: str, **paid: Unpack[PlanOptions]) -> _api.Plan[Video]:
        audio_id = _check_id(audio_id, "audio_id")
        return self._paid(
            "video",
            _api.VIDEOS,
            {"audio_id": audio_id},
            lambda b: _api.parse_video(b, audio_id),
            **paid,
        )

    def plan_wav(self, audio_id: str, **paid: Unpack[PlanOptions]) -> _api.Plan[WavResult]:
        audio_id = _check_id(audio_id, "audio_id")
        return self._paid(
            "wav", _api.WAV, {"audio_id": audio_id}, lambda b: _api.parse_wav(b, audio_id), **paid
        )

    def _paid(
        self,
        action: str,
        path: str,
        body: dict[str, Any],
        parse: Callable[[dict[str, Any]], R],
        *,
        key: str | None = None,
        before_submit: BeforeSubmit | None = None,
        tool: str | None = None,
    ) -> _api.Plan[R]:
        """A paid call answered at once (lyrics, upload, video, WAV), once per journal key."""
        call = self._paid_call(action, path, body, key, before_submit, tool)
        send = _api.paid_call(path, body, parse, self.retry_policy)
        done = yield from _paid_calls.submit_once(
            call, send, task_id_of=lambda r: getattr(r, "task_id", None), answer_of=_answer_of
        )
        if done.result is not None:
            return done.stamp(done.result)
        # Resumed: the answer the journal kept, read as the service's answer was.
        return done.stamp(parse(_paid_calls.recorded_answer(done.entry)))

    def _paid_call(
        self,
        action: str,
        path: str,
        arguments: dict[str, Any],
        key: str | None,
        before_submit: BeforeSubmit | None,
        tool: str | None,
    ) -> _paid_calls.PaidCall:
        request = _journal.PaidRequest(action, path, arguments, tool=tool, key=key)
        return _paid_calls.paid_call(request, store=self.store, before_submit=before_submit)

    @property
    def journal(self) -> _journal.TaskJournal | None:
        """The journal of paid calls on this client's ``store`` (None without one).

        Inside a graph run without ``store=``, calls are journalled in the graph's own store:
        ``TaskJournal(store)`` reads that one.
        """
        return _journal.TaskJournal(self.store) if self.store is not None else None

    # ----------------------------------------------------------------------------------------
    # The API, sync.

    def submit(
        self,
        params: AudioParams,
        *,
        wait: bool = False,
        max_wait: float = 600.0,
        on_progress: OnProgress | None = None,
        key: str | None = None,
        before_submit: BeforeSubmit | None = None,
    ) -> ProducerTask:
        """Submit one ``/producer/audios`` action (billed once accepted).

        Args:
            params: The action and its fields, e.g. ``Generate(prompt=...)``, ``Extend(...)``.
            wait: Wait for the task to end before returning.
            max_wait: With ``wait``, the most seconds to wait; the task is returned running after.
            on_progress: With ``wait``, called with the task each time it is looked at.
            key: Names this call in the journal (needs ``store=`` or a graph's store): a call
                with a key already recorded is not submitted again but resumed
                (``resumed=True``); the same key with other arguments is an error.
            before_submit: Called with a ``journal.PaidRequest`` just before the request is
                sent (never on a resume); raising aborts the call with nothing sent.

        Returns:
            The task: ``pending`` right after submission, else as last seen.

        Raises:
            JournalConflictError: ``key`` holds another request.
            JournalError: The journal could not be read: nothing was submitted.
            TaskLostError: ``key`` holds a task the service no longer knows.
        """
        plan = self.plan_submit(
            params, wait=wait, max_wait=max_wait, key=key, before_submit=before_submit
        )
        return self.run(plan, on_progress)

    def get_task(self, task_id: str) -> ProducerTask:
        """Look a task up once (free, safe to retry).

        Raises:
            TaskNotFoundError: The service knows no such task.
        """
        return self.run(self.plan_get_task(task_id))

    def get_tasks(self, task_ids: Sequence[str], *, max_wait: float = 0.0) -> TaskBatch:
        """Look up to 50 tasks up in one call; unknown ids are listed in ``missing``.

        With ``max_wait``, keep polling the batch until every task found has ended.
        """
        return self.run(self.plan_get_tasks(task_ids, max_wait=max_wait))

    def wait(
        self, task_id: str, *, max_wait: float = 600.0, on_progress: OnProgress | None = None
    ) -> ProducerTask:
        """Poll a task until it is complete or failed, or ``max_wait`` seconds pass.

        The pause between checks grows from ``poll_interval`` to ``max_poll_interval``. On
        timeout the task comes back as last seen (``is_terminal`` False): its id is never lost.
        A failed task is returned, not raised: its error and partial songs are in it.
        """
        return self.run(self.plan_wait(task_id, max_wait=max_wait), on_progress)

    # The paid calls answered at once take the journal ``key`` and ``before_submit`` hook
    # ``submit`` documents; a resumed one returns the recorded answer without a request.

    def generate_lyrics(self, prompt: str, **paid: Unpack[PaidOptions]) -> Lyrics:
        """Write lyrics (with section markers) from a description. Billed."""
        return self.run(self.plan_lyrics(prompt, **paid))

    def upload_audio(self, audio_url: str, **paid: Unpack[PaidOptions]) -> UploadedAudio:
        """Register a public audio file so the audio actions can work on it. Billed."""
        return self.run(self.plan_upload(audio_url, **paid))

    def generate_video(self, audio_id: str, **paid: Unpack[PaidOptions]) -> Video:
        """Render a music video for a finished song. Billed."""
        return self.run(self.plan_video(audio_id, **paid))

    def generate_wav(self, audio_id: str, **paid: Unpack[PaidOptions]) -> WavResult:
        """Render the lossless WAV file of a finished song. Billed."""
        return self.run(self.plan_wav(audio_id, **paid))

    # ----------------------------------------------------------------------------------------
    # The API, async: the same plans, driven on the event loop.

    async def asubmit(
        self,
        params: AudioParams,
        *,
        wait: bool = False,
        max_wait: float = 600.0,
        on_progress: OnProgress | None = None,
        key: str | None = None,
        before_submit: BeforeSubmit | None = None,
    ) -> ProducerTask:
        """Async ``submit``; ``on_progress`` and ``before_submit`` may be coroutine functions."""
        plan = self.plan_submit(
            params, wait=wait, max_wait=max_wait, key=key, before_submit=before_submit
        )
        return await self.arun(plan, on_progress)

    async def aget_task(self, task_id: str) -> ProducerTask:
        """Async ``get_task``."""
        return await self.arun(self.plan_get_task(task_id))

    async def aget_tasks(self, task_ids: Sequence[str], *, max_wait: float = 0.0) -> TaskBatch:
        """Async ``get_tasks``."""
        return await self.arun(self.plan_get_tasks(task_ids, max_wait=max_wait))

    async def await_task(
        self, task_id: str, *, max_wait: float = 600.0, on_progress: OnProgress | None = None
    ) -> ProducerTask:
        """Async ``wait``; ``on_progress`` may be a coroutine function."""
        return await self.arun(self.plan_wait(task_id, max_wait=max_wait), on_progress)

    async def agenerate_lyrics(self, prompt: str, **paid: Unpack[PaidOptions]) -> Lyrics:
        """Async ``generate_lyrics``."""
        return await self.arun(self.plan_lyrics(prompt, **paid))

    async def aupload_audio(self, audio_url: str, **paid: Unpack[PaidOptions]) -> UploadedAudio:
        """Async ``upload_audio``."""
        return await self.arun(self.plan_upload(audio_url, **paid))

    async def agenerate_video(self, audio_id: str, **paid: Unpack[PaidOptions]) -> Video:
        """Async ``generate_video``."""
        return await self.arun(self.plan_video(audio_id, **paid))

    async def agenerate_wav(self, audio_id: str, **paid: Unpack[PaidOptions]) -> WavResult:
        """Async ``generate_wav``."""
        return await self.arun(self.plan_wav(audio_id, **paid))

    # ----------------------------------------------------------------------------------------
    # Downloads (the logic lives in ``langchain_producer.download``).

    def download(
        self,
        item: _download.DownloadItem,
        dest: str | os.PathLike[str],
        *,
        kinds: Sequence[str] | set[str] | frozenset[str] | None = None,
        on_progress: _download.OnDownloadProgress | None = None,
        max_bytes: int = _download.DEFAULT_MAX_BYTES,
        deadline: float | None = None,
    ) -> list[Path]:
        """Save the files of a finished result into the folder ``dest`` (made if missing).

        Streams each file, writes it atomically (a failed or cut download leaves nothing behind),
        names it safely after the title and id (never outside ``dest``, never overwriting) and
        never sends the API key: media hosts are not the API.

        Args:
            item: A complete ``ProducerTask``, a finished ``Song``, a ``WavResult`` or a ``Video``.
            dest: The folder to save into.
            kinds: Some of ``audio``, ``wav``, ``stems``, ``video``, ``image``; None: all.
            on_progress: Called with a ``download.DownloadProgress`` (bytes done and total)
                after each chunk; returning ``False`` stops the download.
            max_bytes: The largest file accepted (default 200 MB); a larger one is refused.
            deadline: Seconds the whole call may take (default: only the client's timeouts).

        Returns:
            The ``pathlib.Path`` of each saved file.

        Raises:
            ProducerValidationError: A preview (unfinished task), nothing to download, a bad URL.
            DownloadError: HTTP error, broken or cut stream, a file over ``max_bytes``, the
                deadline passed, or stopped by ``on_progress`` (nothing partial is kept).

        Examples:
            >>> task = client.submit(Generate(prompt="lo-fi"), wait=True)  # doctest: +SKIP
            >>> client.download(task, "out", kinds={"audio"})  # doctest: +SKIP
            [PosixPath('/home/me/out/Lo-fi-1c4d6e1f.mp3')]
        """
        return _download.download(
            self.http,
            item,
            dest,
            kinds=kinds,
            on_progress=on_progress,
            max_bytes=max_bytes,
            deadline=deadline,
        )

    async def adownload(
        self,
        item: _download.DownloadItem,
        dest: str | os.PathLike[str],
        *,
        kinds: Sequence[str] | set[str] | frozenset[str] | None = None,
        on_progress: _download.OnDownloadProgress | None = None,
        max_bytes: int = _download.DEFAULT_MAX_BYTES,
        deadline: float | None = None,
    ) -> list[Path]:
        """Async ``download``; ``on_progress`` may be a coroutine function."""
        return await _download.adownload(
            self.http_async,
            item,
            dest,
            kinds=kinds,
            on_progress=on_progress,
            max_bytes=max_bytes,
            deadline=deadline,
        )


class _SharedLookups:
    """Look-ups of waited-on tasks, shared by every wait running on one event loop.

    Waits that wake together (the poll schedule aligns their wake-ups to one grid) ask in the
    same turn of the event loop; their ids go out as one ``retrieve_batch`` call instead of one
    call each, so a hundred concurrent waits cost about as many requests as one. Gathering
    costs no time: the look-up leaves as soon as every ready coroutine has had its turn.
    """

    gather_turns = 2
    """Event-loop turns to let other due waits join before sending."""

    def __init__(self, client: ProducerClient) -> None:
        self._client = client
        self._waiting: dict[str, list[asyncio.Future[ProducerTask]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def get(self, task_id: str) -> ProducerTask:
        future: asyncio.Future[ProducerTask] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(task_id, []).append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._send())
        return await future

    async def _send(self) -> None:
        for _ in range(self.gather_turns):
            await asyncio.sleep(0)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        ids = list(waiting)
        for start in range(0, len(ids), BATCH_MAX_IDS):
            chunk = ids[start : start + BATCH_MAX_IDS]
            try:
                found = await self._fetch(chunk)
            except Exception as error:  # every waiter must hear of it, whatever it is
                for task_id in chunk:
                    _settle(waiting[task_id], task_id, error=error)
                continue
            for task_id in chunk:
                task = found.get(task_id)
                if task is None:
                    missing = TaskNotFoundError(
                        f"No task with id {task_id!r} exists.", task_id=task_id
                    )
                    _settle(waiting[task_id], task_id, error=missing)
                else:
                    _settle(waiting[task_id], task_id, task=task)

    async def _fetch(self, task_ids: list[str]) -> dict[str, ProducerTask]:
        client = self._client
        if len(task_ids) == 1:
            task = await client.arun(_api.get_task(task_ids[0], client.retry_policy))
            return {task_ids[0]: task}
        batch = await client.arun(_api.get_tasks(task_ids, client.retry_policy))
        return {task.task_id: task for task in batch.tasks}


def _settle(
    futures: list[asyncio.Future[ProducerTask]],
    task_id: str,
    *,
    task: ProducerTask | None = None,
    error: Exception | None = None,
) -> None:
    for future in futures:
        if future.done():  # its waiter was cancelled
            continue
        if isinstance(error, ProducerError):
            # One copy per waiter: each names its own task, none shares mutable state.
            future.set_exception(error.with_task(task_id))
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(task)  # type: ignore[arg-type]


def _answer_of(result: BaseModel) -> dict[str, Any]:
    """What the journal keeps of a paid call answered at once: the service's answer (small)."""
    return dict(getattr(result, "raw", {}))


def _check_id(value: str, what: str = "task_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProducerValidationError(
            f"{what} must be a non-empty string, got {value!r}.",
            hint=f"Pass the {what} exactly as an earlier result gave it.",
        )
    return value.strip()


def _check_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProducerValidationError(f"{what} must be a non-empty string.")
    return value


__all__ = ["OnProgress", "ProducerClient", "ProducerError"]
