"""Drive the vendor's MCP server (PyPI ``mcp-producer``) through every tool, calling its functions.

Run by ``test_mcp_producer.py`` in a child process, because mcp-producer installs top-level
packages named ``core`` and ``tools``, configures logging and reads its settings from the
environment when imported. The parent sets ``ACEDATACLOUD_API_BASE_URL`` (the emulator's loopback
server) and ``ACEDATACLOUD_API_TOKEN``. Prints one JSON line: each call with its arguments and the
tool's answer (``result``) or the exception it raised (``error``).

Only one thing of mcp-producer's is changed: the 5-second sleep its ``producer_get_task`` takes
inside every poll that does not show ``success: true`` (every poll of a documented finished
record) becomes a short one, to keep the test quick. Nothing it sends is touched.

Importing this file does nothing (pytest's doctest collection imports it): all of it runs under
``__main__``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import types
from collections.abc import Awaitable, Callable
from typing import Any

LYRIC = "[Verse]\nPaper boats on a rainy street\n[Chorus]\nSail away, sail away"

calls: list[dict[str, Any]] = []


async def _short_sleep(seconds: float, result: Any = None) -> Any:
    return await asyncio.sleep(min(seconds, 0.05), result)


async def call(tool: Callable[..., Awaitable[str]], **args: Any) -> dict[str, Any]:
    """Call one tool function directly; record and return what it answered (JSON decoded)."""
    entry: dict[str, Any] = {"tool": tool.__name__, "args": args}
    calls.append(entry)
    try:
        text = await tool(**args)
    except Exception as error:  # recorded for the test to judge
        entry["error"] = f"{type(error).__name__}: {error}"
        return {}
    entry["result"] = text
    try:
        decoded = json.loads(text)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


async def finished(task_tools: Any, task_id: str) -> dict[str, Any]:
    """Poll with producer_get_task until the record says the task finished."""
    for _ in range(100):
        record = await call(task_tools.producer_get_task, task_id=task_id)
        if record.get("finished_at"):
            return record
        await asyncio.sleep(0.05)
    raise RuntimeError(f"task {task_id} never finished")


async def main() -> None:
    """Call every tool of mcp-producer, in the order an agent would."""
    audio_tools, info_tools, lyrics_tools, media_tools, task_tools = (
        importlib.import_module(f"tools.{name}")
        for name in ("audio_tools", "info_tools", "lyrics_tools", "media_tools", "task_tools")
    )
    # Its only use of asyncio is that sleep: give the module a short one, touch nothing else.
    task_tools.asyncio = types.SimpleNamespace(sleep=_short_sleep)
    await call(info_tools.producer_list_models)
    await call(info_tools.producer_list_actions)
    await call(info_tools.producer_get_lyric_format_guide)
    await call(lyrics_tools.producer_generate_lyrics, prompt="a song about paper boats")
    upload = await call(
        media_tools.producer_upload_audio, audio_url="https://example.com/my-song.mp3"
    )
    uploaded_id = upload["data"]["audio_id"]

    song = await call(
        audio_tools.producer_generate_music,
        prompt="lofi beat for a rainy afternoon",
        model="FUZZ-2.0 Pro",
        instrumental=False,
        lyrics_strength=0.5,
        sound_strength=0.1,  # allowed by mcp-producer (0..1); the spec's text says 0.2..1
        weirdness=0.3,
        seed="2450882164",
    )
    custom = await call(
        audio_tools.producer_generate_custom_music,
        lyric=LYRIC,
        title="Paper Boats",
        prompt="indie folk, warm",
        instrumental=False,
    )
    record = await finished(task_tools, song["task_id"])
    await finished(task_tools, custom["task_id"])
    audio_id = record["response"]["data"][0]["id"]
    await call(task_tools.producer_get_tasks_batch, task_ids=[song["task_id"], custom["task_id"]])

    edits: list[tuple[Callable[..., Awaitable[str]], dict[str, Any]]] = [
        # Minutes into the song, as a real one would allow.
        (
            audio_tools.producer_extend_music,
            {"audio_id": audio_id, "continue_at": 120.5, "lyric": LYRIC},
        ),
        (audio_tools.producer_cover_music, {"audio_id": audio_id, "prompt": "acoustic"}),
        (audio_tools.producer_cover_music, {"audio_id": uploaded_id, "prompt": "jazz"}),
        (audio_tools.producer_variation_music, {"audio_id": audio_id}),
        (audio_tools.producer_swap_vocals, {"audio_id": audio_id}),
        (audio_tools.producer_swap_instrumentals, {"audio_id": audio_id}),
        (
            audio_tools.producer_replace_section,
            {
                "audio_id": audio_id,
                "replace_section_start": 10,
                "replace_section_end": 20.5,
                "lyric": LYRIC,
            },
        ),
        (audio_tools.producer_stems_music, {"audio_id": audio_id}),
    ]
    for tool, args in edits:
        submitted = await call(tool, **args)
        await finished(task_tools, submitted["task_id"])
    await call(media_tools.producer_generate_video, audio_id=audio_id)
    await call(media_tools.producer_generate_wav, audio_id=audio_id)
    # A synchronous submission (async: false): the service answers with the finished song.
    await call(audio_tools.producer_generate_music, prompt="short jingle", async_=False)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        sys.stdout.write(json.dumps(calls) + "\n")
