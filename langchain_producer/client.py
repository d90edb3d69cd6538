"""``ProducerClient``: the typed Producer API, sync and async, usable without any LangChain tool."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import httpx
from pydantic import BaseModel, SecretStr

from langchain_producer import download as _download
from langchain_producer.drivers.connections import Connections
from langchain_producer.drivers.driver import Driver, OnProgress
from langchain_producer.drivers.platform import Balance, aread_balance, read_balance
from langchain_producer.errors import ProducerError
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    TaskBatch,
    UploadedAudio,
    Video,
    WavResult,
)
from langchain_producer.params import AudioParams
from langchain_producer.protocol import operations as _operations
from langchain_producer.protocol.operations import check_id
from langchain_producer.protocol.polling import PollSchedule, get_task
from langchain_producer.protocol.retry import RetryPolicy
from langchain_producer.safety import journal as _journal
from langchain_producer.safety.journal import BeforeSubmit, PaidOptions
from langchain_producer.settings import ProducerSettings

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)
logger = logging.getLogger("langchain_producer")


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
        self.retry_policy = RetryPolicy(max_retries=settings.max_retries)
        self.poll_schedule = PollSchedule(
            first=settings.poll_interval,
            cap=settings.max_poll_interval,
            listening=settings.callback_poll_interval,
        )
        self._connections = Connections(settings)
        self._driver = Driver(
            self._connections,
            base_url=settings.base_url,
            api_key=settings.api_key,
            retry_policy=self.retry_policy,
            roster_window=(self.poll_schedule.shared_for, 2 * self.poll_schedule.cap),
        )

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
    # Connections (kept in ``drivers.connections``). Injected clients are the caller's: used,
    # never closed here.

    @property
    def http(self) -> httpx.Client:
        """The kept-alive sync ``httpx.Client``: the injected one, else one made on first use."""
        return self._connections.http

    @property
    def http_async(self) -> httpx.AsyncClient:
        """The kept-alive ``httpx.AsyncClient`` of the running event loop (one per loop; an
        injected ``http_async_client`` is used on every loop)."""
        return self._connections.http_async

    def close(self) -> None:
        """Close the sync connections this client made (the async ones: ``aclose``)."""
        self._connections.close()

    async def aclose(self) -> None:
        """Close the async connections this client made on the running loop."""
        await self._connections.aclose()

    def __enter__(self) -> ProducerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ProducerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

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
        """Submit one ``/producer/audios`` action (billed if the task succeeds).

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
        plan = _operations.submit(
            self, params, wait=wait, max_wait=max_wait, key=key, before_submit=before_submit
        )
        return self._driver.run(plan, on_progress)

    def get_task(self, task_id: str) -> ProducerTask:
        """Look a task up once (free, safe to retry).

        Raises:
            TaskNotFoundError: The service knows no such task.
        """
        return self._driver.run(get_task(check_id(task_id), self.retry_policy))

    def get_tasks(self, task_ids: Sequence[str], *, max_wait: float = 0.0) -> TaskBatch:
        """Look up to 50 tasks up in one call; unknown ids are listed in ``missing``.

        With ``max_wait``, keep polling the batch until every task found has ended.
        """
        return self._driver.run(_operations.get_tasks(self, task_ids, max_wait=max_wait))

    def wait(
        self, task_id: str, *, max_wait: float = 600.0, on_progress: OnProgress | None = None
    ) -> ProducerTask:
        """Poll a task until it is complete or failed, or ``max_wait`` seconds pass.

        The pause between checks grows from ``poll_interval`` to ``max_poll_interval``. On
        timeout the task comes back as last seen (``is_terminal`` False): its id is never lost.
        A failed task is returned, not raised: its error and partial songs are in it.
        """
        return self._driver.run(_operations.wait(self, task_id, max_wait=max_wait), on_progress)

    def balance(self) -> Balance:
        """The application's balance from the platform API (free; ``platform_token`` and
        ``application_id`` settings, else ``ProducerValidationError`` before any request)."""
        return read_balance(self._connections, self.settings, self.retry_policy)

    # The paid calls answered at once take the journal ``key`` and ``before_submit`` hook
    # ``submit`` documents; a resumed one returns the recorded answer without a request.

    def generate_lyrics(self, prompt: str, **paid: Unpack[PaidOptions]) -> Lyrics:
        """Write lyrics (with section markers) from a description. Billed."""
        return self._driver.run(_operations.lyrics(self, prompt, **paid))

    def upload_audio(self, audio_url: str, **paid: Unpack[PaidOptions]) -> UploadedAudio:
        """Register a public audio file so the audio actions can work on it. Billed."""
        return self._driver.run(_operations.upload(self, audio_url, **paid))

    def generate_video(self, audio_id: str, **paid: Unpack[PaidOptions]) -> Video:
        """Render a music video for a finished song. Billed."""
        return self._driver.run(_operations.video(self, audio_id, **paid))

    def generate_wav(self, audio_id: str, **paid: Unpack[PaidOptions]) -> WavResult:
        """Render the lossless WAV file of a finished song. Billed."""
        return self._driver.run(_operations.wav(self, audio_id, **paid))

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
        plan = _operations.submit(
            self, params, wait=wait, max_wait=max_wait, key=key, before_submit=before_submit
        )
        return await self._driver.arun(plan, on_progress)

    async def aget_task(self, task_id: str) -> ProducerTask:
        """Async ``get_task``."""
        return await self._driver.arun(get_task(check_id(task_id), self.retry_policy))

    async def aget_tasks(self, task_ids: Sequence[str], *, max_wait: float = 0.0) -> TaskBatch:
        """Async ``get_tasks``."""
        return await self._driver.arun(_operations.get_tasks(self, task_ids, max_wait=max_wait))

    async def await_task(
        self, task_id: str, *, max_wait: float = 600.0, on_progress: OnProgress | None = None
    ) -> ProducerTask:
        """Async ``wait``; ``on_progress`` may be a coroutine function."""
        return await self._driver.arun(
            _operations.wait(self, task_id, max_wait=max_wait), on_progress
        )

    async def abalance(self) -> Balance:
        """Async ``balance``."""
        return await aread_balance(self._connections, self.settings, self.retry_policy)

    async def agenerate_lyrics(self, prompt: str, **paid: Unpack[PaidOptions]) -> Lyrics:
        """Async ``generate_lyrics``."""
        return await self._driver.arun(_operations.lyrics(self, prompt, **paid))

    async def aupload_audio(self, audio_url: str, **paid: Unpack[PaidOptions]) -> UploadedAudio:
        """Async ``upload_audio``."""
        return await self._driver.arun(_operations.upload(self, audio_url, **paid))

    async def agenerate_video(self, audio_id: str, **paid: Unpack[PaidOptions]) -> Video:
        """Async ``generate_video``."""
        return await self._driver.arun(_operations.video(self, audio_id, **paid))

    async def agenerate_wav(self, audio_id: str, **paid: Unpack[PaidOptions]) -> WavResult:
        """Async ``generate_wav``."""
        return await self._driver.arun(_operations.wav(self, audio_id, **paid))

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


__all__ = ["Balance", "OnProgress", "ProducerClient", "ProducerError"]
