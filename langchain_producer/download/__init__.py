"""Saving Producer results to disk: streamed, atomic, safely named, and never with the API key.

Use it through the client: ``client.download(item, dest)`` / ``await client.adownload(...)``, or
directly with any ``httpx.Client`` / ``httpx.AsyncClient``: this module knows nothing of the
Producer client.

Guarantees:
    * Streaming through the client's kept-alive ``httpx`` clients, with redirects followed.
    * Atomic: each file is written to a hidden temporary file inside ``dest`` and moved into place
      with ``os.replace`` only once every byte arrived (``Content-Length`` is checked). A failed or
      cut stream leaves neither the file nor the temporary file behind.
    * Safe names: titles and ids are reduced to ``[A-Za-z0-9._ -]``, without path separators,
      ``..`` or leading dots, capped in length and never overwriting an existing file; the final
      path is checked to lie inside ``dest``.
    * Only ``http``/``https`` URLs, and no ``Authorization`` header is ever sent: media live on
      other hosts (CDNs), which must never see the API key.
    * Previews are refused: a song whose task is still running only has a streaming preview
      (``preview_url``), which is not the finished song.
    * Bounded: at most ``max_bytes`` per file (refused up front when ``Content-Length`` says
      more, stopped as soon as the stream passes it), an overall ``deadline`` in seconds for
      the whole call, and an ``on_progress`` callback that stops the download by returning
      ``False``. Each ends in a ``DownloadError`` with nothing partial left on disk.

Layout: ``_plan`` decides what to fetch and under which name (pure); ``_sink`` receives one file
within the bounds above; this module holds the sync and async drivers that join the two.

May import: the vocabulary (``errors``, ``models``) and httpx; never the client.

Example:
    >>> from langchain_producer import Generate, ProducerClient
    >>> from langchain_producer.emulator import ProducerEmulator
    >>> emulator = ProducerEmulator(pending_seconds=0.1, processing_seconds=0.2)
    >>> client = ProducerClient(api_key="demo", transport=emulator.transport, poll_interval=0.1)
    >>> task = client.submit(Generate(prompt="lo-fi beat"), wait=True)
    >>> paths = client.download(task, "out", max_bytes=50_000_000)  # doctest: +SKIP
    >>> [p.suffix for p in paths]  # doctest: +SKIP
    ['.wav']
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from langchain_producer.download import _sink
from langchain_producer.download._plan import (
    KINDS,
    MAX_NAME_CHARS,
    DownloadItem,
    extension,
    plan_downloads,
    safe_name,
)
from langchain_producer.download._sink import (
    DEFAULT_MAX_BYTES,
    DownloadProgress,
    OnDownloadProgress,
)
from langchain_producer.errors import DownloadError


def _prepare(dest: str | os.PathLike[str]) -> Path:
    path = Path(dest).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _request(
    http: httpx.Client | httpx.AsyncClient, url: str, limits: _sink.Limits
) -> httpx.Request:
    limits.check(url)
    request = http.build_request("GET", url, timeout=limits.timeout(http))
    # Media live on other hosts: the key must never travel there, even if a caller gave the
    # client default headers that carry it.
    request.headers.pop("authorization", None)
    request.headers.pop("proxy-authorization", None)
    return request


def download(
    http: httpx.Client,
    item: DownloadItem,
    dest: str | os.PathLike[str],
    *,
    kinds: Iterable[str] | None = None,
    on_progress: OnDownloadProgress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
) -> list[Path]:
    """Download ``item``'s files into ``dest`` with ``http`` (see ``ProducerClient.download``).

    Args:
        http: The client to stream with. Its default headers are used, but never an
            ``Authorization`` header: media hosts are not the API.
        item: A complete ``ProducerTask``, a finished ``Song``, a ``WavResult`` or a ``Video``.
        dest: The folder to save into (made if missing).
        kinds: Some of ``KINDS``; None: everything the item has.
        on_progress: Called after each chunk; returning ``False`` stops the download.
        max_bytes: The largest file accepted.
        deadline: Seconds the whole call may take; None: no limit beyond the client's timeouts.
    """
    planned = plan_downloads(item, kinds)
    limits = _sink.Limits(max_bytes, deadline)
    root = _prepare(dest)
    saved: list[Path] = []
    taken: set[str] = set()
    for index, file in enumerate(planned):
        sink = _sink.Sink(root, file, index, len(planned), limits)
        with _sink.cleaning_up(sink, file, saved):
            request = _request(http, file.url, limits)
            response = http.send(request, stream=True, follow_redirects=True)
            try:
                sink.start(response)
                verdict = on_progress(sink.progress()) if on_progress else None
                # Chunks as they arrive (no re-buffering to a fixed size): a body that drips a
                # byte at a time must still meet the deadline and the callback between drips.
                for chunk in response.iter_bytes():
                    sink.write(chunk, verdict)
                    verdict = on_progress(sink.progress()) if on_progress else None
                sink.write(b"", verdict)
                saved.append(sink.finish(response, taken))
            finally:
                response.close()
    return saved


async def adownload(
    http: httpx.AsyncClient,
    item: DownloadItem,
    dest: str | os.PathLike[str],
    *,
    kinds: Iterable[str] | None = None,
    on_progress: OnDownloadProgress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
) -> list[Path]:
    """Async ``download``; ``on_progress`` may be a coroutine function."""

    async def report(sink: _sink.Sink) -> Any:
        if on_progress is None:
            return None
        outcome = on_progress(sink.progress())
        return await outcome if inspect.isawaitable(outcome) else outcome

    planned = plan_downloads(item, kinds)
    limits = _sink.Limits(max_bytes, deadline)
    root = _prepare(dest)
    saved: list[Path] = []
    taken: set[str] = set()
    for index, file in enumerate(planned):
        sink = _sink.Sink(root, file, index, len(planned), limits)
        with _sink.cleaning_up(sink, file, saved):
            request = _request(http, file.url, limits)
            response = await http.send(request, stream=True, follow_redirects=True)
            try:
                sink.start(response)
                verdict = await report(sink)
                async for chunk in response.aiter_bytes():
                    sink.write(chunk, verdict)
                    verdict = await report(sink)
                sink.write(b"", verdict)
                saved.append(sink.finish(response, taken))
            finally:
                await response.aclose()
    return saved


__all__ = [
    "DEFAULT_MAX_BYTES",
    "KINDS",
    "MAX_NAME_CHARS",
    "DownloadError",
    "DownloadItem",
    "DownloadProgress",
    "OnDownloadProgress",
    "adownload",
    "download",
    "extension",
    "plan_downloads",
    "safe_name",
]
