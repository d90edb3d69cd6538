"""What a download fetches and what its files are called: pure, no I/O.

``plan_downloads`` turns a task, song, WAV result or video into a checked list of
``PlannedFile``; ``safe_name`` and ``extension`` decide the names they get on disk.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from langchain_producer.errors import ProducerValidationError
from langchain_producer.models import ProducerTask, Song, Video, WavResult

KINDS: frozenset[str] = frozenset({"audio", "wav", "stems", "video", "image"})
"""What can be downloaded: the song's audio, its WAV rendering, the stems zip, the video, the
cover image."""

DownloadItem = ProducerTask | Song | WavResult | Video
"""What ``download`` accepts."""

MAX_NAME_CHARS = 80
"""The longest file name stem (before the kind suffix, counter and extension)."""

_KIND_SUFFIX = {
    "audio": "",
    "wav": "-lossless",
    "stems": "-stems",
    "video": "-video",
    "image": "-cover",
}
KIND_FALLBACK_EXT = {
    "audio": ".mp3",
    "wav": ".wav",
    "stems": ".zip",
    "video": ".mp4",
    "image": ".jpg",
}
_MEDIA_EXTS = frozenset(
    {"mp3", "m4a", "aac", "wav", "flac", "ogg", "opus", "mp4", "webm", "mov", "m4v"}
    | {"png", "jpg", "jpeg", "webp", "gif", "zip"}
)
_CONTENT_TYPE_EXT = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
}
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


@dataclass(frozen=True)
class PlannedFile:
    """One file a download will fetch: its kind, its (checked) URL and its safe name stem."""

    kind: str
    url: str
    stem: str
    """Safe name without the extension."""


def safe_name(text: str | None, *, fallback: str = "file", max_chars: int = MAX_NAME_CHARS) -> str:
    """A file name stem made from untrusted text (a title, an id).

    Only ASCII letters, digits, ``.``, ``_`` and ``-`` survive (spaces become ``-``, so a name
    needs no quoting in a shell); there is never a path separator, a ``..``, a leading dot or
    dash, or a Windows device name.

    Examples:
        >>> safe_name("../../etc/passwd")
        'etc-passwd'
        >>> safe_name("Café del Mar: Sunset / Remix")
        'Cafe-del-Mar-Sunset-Remix'
        >>> safe_name("...", fallback="song")
        'song'
    """
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folded)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = cleaned[:max_chars].strip(".-_")
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].strip().lower() in _RESERVED_NAMES:  # CON, NUL... on Windows
        return f"file-{cleaned}"
    return cleaned


def _stem(title: str | None, ident: str | None, fallback: str) -> str:
    base = safe_name(title, fallback="") if title else ""
    short_id = safe_name(ident, fallback="")[:8] if ident else ""
    parts = [part for part in (base, short_id) if part]
    return "-".join(parts) or fallback


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ProducerValidationError(f"Not a valid URL: {url!r}.") from error
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ProducerValidationError(
            f"Only http(s) URLs are downloaded, not {url!r}.",
            hint="The Producer service hands out https links; anything else is refused.",
        )
    return url


def _song_files(song: Song, kinds: frozenset[str], fallback_id: str | None) -> list[PlannedFile]:
    if "audio" in kinds and song.audio_url is None and song.preview_url is not None:
        raise ProducerValidationError(
            f"Song {song.id or song.title or ''!r} only has a streaming preview (preview_url), "
            "not the finished audio: its task is not complete.",
            hint="Wait for the task (client.wait(task_id)) and download the complete task.",
        )
    stem = _stem(song.title, song.id or fallback_id, "song")
    urls = {
        "audio": song.audio_url,
        "stems": song.stems_url,
        "video": song.video_url,
        "image": song.image_url,
    }
    return [
        PlannedFile(kind, url, stem + _KIND_SUFFIX[kind])
        for kind, url in urls.items()
        if url and kind in kinds
    ]


def plan_downloads(item: DownloadItem, kinds: Iterable[str] | None = None) -> list[PlannedFile]:
    """The files ``download`` would fetch for ``item``, checked, without any I/O.

    Raises:
        ProducerValidationError: An unknown kind, a preview, a task that is not finished, a URL
            that is not http(s), or nothing of the wanted kinds to download.
    """
    wanted = KINDS if kinds is None else frozenset([kinds] if isinstance(kinds, str) else kinds)
    unknown = wanted - KINDS
    if unknown or not wanted:
        raise ProducerValidationError(
            f"Unknown download kind(s): {sorted(unknown) or 'none given'}.",
            hint=f"Use some of: {', '.join(sorted(KINDS))}.",
        )
    planned: list[PlannedFile] = []
    if isinstance(item, ProducerTask):
        if not item.is_terminal:
            raise ProducerValidationError(
                f"Task {item.task_id} is {item.state}: its songs are not finished and any audio "
                "it shows is only a streaming preview, so there is nothing final to download.",
                hint="Wait for it first: task = client.wait(task.task_id), then download it.",
                task_id=item.task_id,
            )
        for song in item.songs:
            if item.state == "failed" and song.audio_url is None and song.stems_url is None:
                continue  # a failed task's partial songs are previews: nothing final to save
            planned += _song_files(song, wanted, item.task_id)
        if not planned and item.state == "failed":
            raise ProducerValidationError(
                f"Task {item.task_id} failed and has no finished file to download "
                "(its partial songs, if any, are previews).",
                task_id=item.task_id,
            )
    elif isinstance(item, Song):
        planned = _song_files(item, wanted, None)
    elif isinstance(item, WavResult):
        if "wav" in wanted:
            for wav in item.files:
                stem = _stem(wav.title, item.audio_id, "song") + _KIND_SUFFIX["wav"]
                planned.append(PlannedFile("wav", wav.file_url, stem))
    elif isinstance(item, Video):
        if "video" in wanted:
            stem = _stem(None, item.audio_id, "song") + _KIND_SUFFIX["video"]
            planned.append(PlannedFile("video", item.video_url, stem))
    else:
        raise ProducerValidationError(
            f"download() takes a ProducerTask, Song, WavResult or Video, not {type(item).__name__}."
        )
    if not planned:
        hint = "Drop kinds= to get everything the item has."
        if isinstance(item, (ProducerTask, Song)) and "wav" in wanted:
            hint = "A WAV comes from client.generate_wav(song.id): download that result instead."
        raise ProducerValidationError(
            f"Nothing of kind(s) {sorted(wanted)} to download from this {type(item).__name__}.",
            hint=hint,
        )
    for file in planned:
        _check_url(file.url)
    return planned


def extension(url: str, content_type: str | None, kind: str) -> str:
    """The file extension: from the URL path, else the ``Content-Type``, else the kind's usual.

    Examples:
        >>> extension("https://cdn.example/a/b.MP3?sig=1", "audio/wav", "audio")
        '.mp3'
        >>> extension("https://cdn.example/a/file", "audio/wav; charset=binary", "audio")
        '.wav'
        >>> extension("https://cdn.example/a/file.php", None, "stems")
        '.zip'
    """
    last = httpx.URL(url).path.rsplit("/", 1)[-1]
    if "." in last:
        ext = last.rsplit(".", 1)[1].lower()
        if ext in _MEDIA_EXTS:
            return "." + ("jpg" if ext == "jpeg" else ext)
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return _CONTENT_TYPE_EXT.get(mime, KIND_FALLBACK_EXT[kind])
