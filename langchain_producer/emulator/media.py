"""Deterministic media files for the emulator, from the standard library alone.

Every file is derived from a seed text (a hash of the request that made the song), so the same
request always yields byte-identical media. Audio is WAV (the real service serves mp3/m4a; encoding
those needs third-party code), images are PNG, stems are a zip of two WAVs and the "video" is a
minimal MP4 header box: enough for a client to download, size-check and open it.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import sys
import wave
import zipfile
import zlib
from array import array
from typing import TYPE_CHECKING

import httpx

from langchain_producer.emulator.answers import error_response, not_found

if TYPE_CHECKING:
    from langchain_producer.emulator.state import World

SAMPLE_RATE = 11025
"""Samples per second of every WAV the emulator serves (mono, 16-bit)."""

_NOTE_SECONDS = 0.25
_PENTATONIC = (0, 2, 4, 7, 9, 12, 14, 16)


def digest(seed: str) -> bytes:
    """The SHA-256 of ``seed``: the single source of every derived value."""
    return hashlib.sha256(seed.encode("utf-8")).digest()


def audio_seconds(seed: str) -> float:
    """How long the served audio lasts: 3.0 to 6.0 seconds, a multiple of a quarter second."""
    return 3.0 + (digest(seed)[0] % 13) * 0.25


def reported_duration(seed: str) -> float:
    """The duration a song reports: 2 to 4 minutes, like the real service's songs.

    Only the reported figure is realistic; the served file stays short (:func:`audio_seconds`).
    """
    h = digest(seed)
    return 120.0 + int.from_bytes(h[10:12], "big") % 12000 / 100


def _voices(seed: str, seconds: float) -> tuple[array[int], array[int]]:
    """Render the melody ("vocals") and the bass line ("instrumental") as 16-bit samples."""
    h = digest(seed)
    root = 220.0 * 2 ** ((h[1] % 12) / 12)
    frames = round(seconds * SAMPLE_RATE)
    note_frames = round(_NOTE_SECONDS * SAMPLE_RATE)
    melody: array[int] = array("h", bytes(2 * frames))
    bass: array[int] = array("h", bytes(2 * frames))
    two_pi = 2 * math.pi
    for start in range(0, frames, note_frames):
        index = start // note_frames
        step = _PENTATONIC[h[(index % 28) + 2] % len(_PENTATONIC)]
        freq = root * 2 ** (step / 12)
        bass_freq = root / 2 * (1.5 if (index // 4) % 2 else 1.0)
        end = min(start + note_frames, frames)
        for n in range(start, end):
            t = n / SAMPLE_RATE
            # A short fade at each note edge avoids clicks.
            edge = min(n - start, end - n, 200) / 200
            melody[n] = int(9000 * edge * math.sin(two_pi * freq * t))
            bass[n] = int(6000 * math.sin(two_pi * bass_freq * t))
    return melody, bass


def _wav(samples: array[int]) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        if sys.byteorder == "big":  # WAV samples are little-endian
            samples = array("h", samples)
            samples.byteswap()
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def song_wav(seed: str, seconds: float) -> bytes:
    """The full song: melody and bass mixed."""
    melody, bass = _voices(seed, seconds)
    mixed = array("h", (m + b for m, b in zip(melody, bass, strict=True)))
    return _wav(mixed)


def preview_wav(seed: str, seconds: float) -> bytes:
    """A streaming preview: the first 40 % of the song, a different file from the final one."""
    melody, bass = _voices(seed, max(_NOTE_SECONDS, round(seconds * 0.4 * 4) / 4))
    return _wav(array("h", (m + b for m, b in zip(melody, bass, strict=True))))


def stems_zip(seed: str, seconds: float) -> bytes:
    """A zip holding ``vocals.wav`` and ``instrumental.wav``."""
    melody, bass = _voices(seed, seconds)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, samples in (("vocals.wav", melody), ("instrumental.wav", bass)):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _wav(samples))
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def cover_png(seed: str, size: int = 32) -> bytes:
    """A ``size`` x ``size`` RGB PNG: a two-colour gradient chosen by the seed."""
    h = digest(seed)
    a, b = h[3:6], h[6:9]
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            mix = (x + y) / (2 * (size - 1))
            rows.extend(int(a[c] * (1 - mix) + b[c] * mix) for c in range(3))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def video_mp4(seed: str) -> bytes:
    """A tiny ISO-BMFF file: an ``ftyp`` box and an ``mdat`` box carrying the seed's hash."""
    ftyp = b"ftypisom" + struct.pack(">I", 512) + b"isomiso2mp41"
    payload = digest(seed)
    return (
        struct.pack(">I", len(ftyp) + 4)
        + ftyp
        + struct.pack(">I", len(payload) + 8)
        + b"mdat"
        + payload
    )


# ----------------------------------------------------------------------------- the media host

_PATH = re.compile(r"^/media/(audio|preview|image|stems|video|wav)/([A-Za-z0-9-]+)\.(\w+)$")
_TYPES = {"wav": "audio/wav", "png": "image/png", "zip": "application/zip", "mp4": "video/mp4"}
_EXTENSION = {
    "audio": "wav",
    "preview": "wav",
    "image": "png",
    "stems": "zip",
    "video": "mp4",
    "wav": "wav",
}


def serve(emulator: World, method: str, path: str) -> httpx.Response:
    """Answer a GET under ``/media/`` as a public CDN would (no auth; 404 until ready)."""
    if method not in ("GET", "HEAD"):
        return error_response(405, "bad_request", f"{method} is not allowed on media: use GET.")
    match = _PATH.match(path)
    if match is None or _EXTENSION[match[1]] != match[3]:
        return not_found(path)
    with emulator.lock:
        content = _content(emulator, match[1], match[2], emulator.clock())
    if content is None:
        return not_found(path)
    return httpx.Response(
        200,
        headers={
            "content-type": _TYPES[match[3]],
            "content-length": str(len(content)),
            "cache-control": "public, max-age=86400",
        },
        content=content,
    )


def _content(emu: World, kind: str, key: str, now: float) -> bytes | None:
    if kind == "stems":
        task = emu.tasks.get(emu.stems.get(key, ""))
        if task is None or task.phase(now) != "succeeded":
            return None
        song = task.songs[0]
        return stems_zip(song.media_seed, song.audio_seconds)
    source = emu.sources.get(key)
    if kind in ("video", "wav"):
        if key not in (emu.videos if kind == "video" else emu.wavs):
            return None
        seed = source.media_seed if source else key
        if kind == "video":
            return video_mp4(seed)
        return song_wav(seed, source.audio_seconds if source else audio_seconds(seed))
    stems_task = emu.tasks.get(emu.stems.get(key, ""))
    task = stems_task or (emu.tasks.get(source.task_id or "") if source else None)
    if task is None:
        return None
    phase = task.phase(now)
    song = task.songs[0]
    if kind == "image":
        return cover_png(song.media_seed) if phase != "pending" else None
    if kind == "preview" and not song.is_stems:
        return preview_wav(song.media_seed, song.audio_seconds) if phase != "pending" else None
    if kind == "audio" and not song.is_stems and phase == "succeeded":
        return song_wav(song.media_seed, song.audio_seconds)
    return None
