"""Receiving one file within bounds: a temp file in the destination, the byte, deadline and
callback limits, and the atomic move into place (or nothing at all)."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from langchain_producer.download._plan import KIND_FALLBACK_EXT, PlannedFile, extension
from langchain_producer.errors import DownloadError, ProducerValidationError

DEFAULT_MAX_BYTES = 200_000_000
"""The largest file ``download`` accepts unless told otherwise (200 MB: a long WAV or video)."""
_TEMP_PREFIX = ".producer-download-"


@dataclass(frozen=True)
class DownloadProgress:
    """Where one file's download stands; given to ``on_progress`` after every chunk.

    Attributes:
        kind: ``audio``, ``wav``, ``stems``, ``video`` or ``image``.
        url: The URL being read.
        name: The file name it is meant to get (a counter may be added on a clash).
        bytes_done: Bytes received so far.
        bytes_total: ``Content-Length`` when the server sent one, else None.
        index: Position of this file in the call (0-based).
        count: How many files the call downloads.
    """

    kind: str
    url: str
    name: str
    bytes_done: int
    bytes_total: int | None
    index: int
    count: int

    @property
    def fraction(self) -> float | None:
        """Share done, 0.0 to 1.0, when the total is known."""
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_done / self.bytes_total)


OnDownloadProgress = Callable[[DownloadProgress], Any]
"""Called after each chunk; with ``adownload`` it may be a coroutine function. Returning
``False`` stops the download (a ``DownloadError``; nothing partial is kept)."""


class Limits:
    """The bounds of one download call: bytes per file and an overall deadline."""

    def __init__(self, max_bytes: int, deadline: float | None) -> None:
        if max_bytes <= 0 or (deadline is not None and not deadline > 0):
            raise ProducerValidationError(
                f"max_bytes must be > 0 and deadline > 0 seconds (or None), got {max_bytes} "
                f"and {deadline}."
            )
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.end = None if deadline is None else time.monotonic() + deadline

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check(self, url: str) -> None:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise DownloadError(
                f"The download passed its deadline of {self.deadline:g} s; nothing partial "
                "was kept.",
                url=url,
                hint="Raise deadline, or try again on a faster connection.",
            )

    def timeout(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Timeout:
        """The client's timeouts, none longer than what is left of the deadline: a body that
        drips one byte at a time cannot hold a read past it."""
        remaining = self.remaining()
        base = http.timeout
        if remaining is None:
            return base
        left = max(remaining, 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect),
            read=cap(base.read),
            write=cap(base.write),
            pool=cap(base.pool),
        )


class Sink:
    """One file being received: a temp file in ``dest``, length checks, the final move."""

    def __init__(
        self, dest: Path, planned: PlannedFile, index: int, count: int, limits: Limits
    ) -> None:
        self.dest = dest
        self.planned = planned
        self.limits = limits
        self.index = index
        self.count = count
        self.ext = KIND_FALLBACK_EXT[planned.kind]
        self.total: int | None = None
        self.done = 0
        fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".part", dir=dest)
        self.temp = Path(name)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def start(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise DownloadError(
                f"HTTP {response.status_code} while downloading the {self.planned.kind} file.",
                url=self.planned.url,
            )
        self.ext = extension(
            str(response.url), response.headers.get("content-type"), self.planned.kind
        )
        length = response.headers.get("content-length")
        self.total = int(length) if length and length.isdigit() else None
        if self.total is not None and self.total > self.limits.max_bytes:
            raise self._too_large(self.total)

    def _too_large(self, size: int) -> DownloadError:
        return DownloadError(
            f"The {self.planned.kind} file is larger than max_bytes ({size} > "
            f"{self.limits.max_bytes} bytes); nothing was kept.",
            url=self.planned.url,
            hint="Raise max_bytes if this file is expected to be that large.",
        )

    def progress(self) -> DownloadProgress:
        return DownloadProgress(
            kind=self.planned.kind,
            url=self.planned.url,
            name=self.planned.stem + self.ext,
            bytes_done=self.done,
            bytes_total=self.total,
            index=self.index,
            count=self.count,
        )

    def write(self, chunk: bytes, verdict: Any) -> None:
        """Keep ``chunk``, then apply the limits; ``verdict`` is what ``on_progress`` said
        about the previous chunk (False stops)."""
        if verdict is False:
            raise DownloadError(
                f"The {self.planned.kind} download was stopped by on_progress; nothing was kept.",
                url=self.planned.url,
            )
        if self.done + len(chunk) > self.limits.max_bytes:
            raise self._too_large(self.done + len(chunk))
        self.file.write(chunk)
        self.done += len(chunk)
        self.limits.check(self.planned.url)

    def finish(self, response: httpx.Response, taken: set[str]) -> Path:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        # Content-Length counts the bytes on the wire, before any content decoding.
        encoding = response.headers.get("content-encoding", "").strip().lower()
        received = response.num_bytes_downloaded if encoding not in ("", "identity") else self.done
        if self.total is not None and received != self.total:
            raise DownloadError(
                f"The {self.planned.kind} download was cut: {received} of {self.total} bytes "
                "arrived.",
                url=self.planned.url,
            )
        os.chmod(self.temp, _file_mode())  # mkstemp makes 0600; a saved song is a normal file
        final = _free_path(self.dest, self.planned.stem, self.ext, taken)
        os.replace(self.temp, final)
        return final

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


@functools.cache
def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _free_path(dest: Path, stem: str, ext: str, taken: set[str]) -> Path:
    """``dest/stem.ext``, or ``stem-2.ext`` and so on: never an existing file, never outside."""
    root = dest.resolve()
    counter = 1
    while True:
        name = f"{stem}{ext}" if counter == 1 else f"{stem}-{counter}{ext}"
        path = root / name
        if name.lower() not in taken and not path.exists():
            break
        counter += 1
    if path.resolve().parent != root:  # defence in depth: safe_name already forbids this
        raise ProducerValidationError(f"Refusing to write outside {root}: {name!r}.")
    taken.add(name.lower())
    return path


def _failure(error: httpx.HTTPError, planned: PlannedFile, saved: list[Path]) -> DownloadError:
    return DownloadError(
        f"The {planned.kind} download failed: {type(error).__name__}: {error}.",
        url=planned.url,
        saved=saved,
        hint="Nothing partial was kept; try again.",
    )


@contextlib.contextmanager
def cleaning_up(sink: Sink, file: PlannedFile, saved: list[Path]) -> Iterator[None]:
    """Whatever stops a file midway, its partial bytes go; the caller learns what was saved."""
    try:
        yield
    except httpx.TimeoutException as error:
        sink.abort()
        if (remaining := sink.limits.remaining()) is not None and remaining <= 0.01:
            timed_out = DownloadError(
                f"The download passed its deadline of {sink.limits.deadline:g} s; nothing "
                "partial was kept.",
                url=file.url,
                saved=saved,
                hint="Raise deadline, or try again on a faster connection.",
            )
            raise timed_out from error
        raise _failure(error, file, saved) from error
    except httpx.HTTPError as error:
        sink.abort()
        raise _failure(error, file, saved) from error
    except DownloadError as error:
        sink.abort()
        error.saved = list(saved)
        raise
    except BaseException:
        sink.abort()
        raise
