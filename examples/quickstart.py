"""Quickstart: a LangChain agent writes lyrics, makes a song, gets its WAV and stems, saves them.

Run it with ``make demo`` (or ``python examples/quickstart.py``). With no settings it runs offline:
the Producer service is the embedded emulator and the "model" is a small scripted chat model, so
it needs no token, no network and no money. Set ``ACEDATACLOUD_API_TOKEN`` to use the real Producer
API, and ``OPENAI_API_KEY`` (with ``langchain-openai``) or ``ANTHROPIC_API_KEY`` (with
``langchain-anthropic``) to let a real model drive the tools.

The files land in ``./out/quickstart/``, which each run replaces (the last run's files go).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from langchain_producer import ProducerClient, ProducerTask, ProducerToolkit, WavResult
from langchain_producer.download import DownloadProgress, safe_name
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.tools import PROGRESS_EVENT

OUT = Path("out") / "quickstart"
NOTE = "ABOUT.txt"
NOTE_TEXT = (
    "Files of the last `make demo` run (examples/quickstart.py); the next run replaces them.\n"
)
TOOL_NAMES = [
    "producer_generate_lyrics",
    "producer_generate_custom_music",
    "producer_get_task",
    "producer_generate_wav",
    "producer_stems_music",
]
REQUEST = (
    "Write lyrics for a short upbeat song about a robot learning to dance, make it as a "
    "synth-pop song, then get its lossless WAV and split it into stems."
)
SYSTEM = (
    "You are a music producer assistant. To make a song: write lyrics with "
    "producer_generate_lyrics, sing them with producer_generate_custom_music, then call "
    "producer_generate_wav and producer_stems_music with the song's id as audio_id. Report the "
    "results briefly."
)


class ScriptedProducerModel(BaseChatModel):
    """A stand-in chat model that plays the producer's part without any LLM.

    It reads the conversation (the tool results are JSON) and asks for the next tool, using the
    ids earlier results gave it: lyrics, then the custom song, then its WAV, then its stems.
    """

    style: str = "synth-pop, bright, 120 bpm"

    @property
    def _llm_type(self) -> str:
        return "scripted-producer"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        # The script already knows the tools; nothing to bind.
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        answers = {m.name: _json(m.content) for m in results}  # the latest answer of each tool
        last = _json(results[-1].content) if results else {}
        if results and (results[-1].status == "error" or "error" in last):
            return AIMessage(f"The {results[-1].name} step failed: {results[-1].content}")
        if last.get("should_poll"):  # a task still running (e.g. not waited for): follow it
            return _call("producer_get_task", task_id=last["task_id"])
        lyrics = answers.get("producer_generate_lyrics")
        if lyrics is None:
            return _call("producer_generate_lyrics", prompt="a robot learning to dance, upbeat")
        if "producer_generate_custom_music" not in answers:
            return _call(
                "producer_generate_custom_music",
                lyric=lyrics["lyric"],
                title=lyrics.get("title") or "Robot Dance",
                prompt=self.style,
            )
        song_id = _first_song_id(results)
        if song_id is None:
            return AIMessage("The song did not finish, so there is no WAV or stems to make.")
        if "producer_generate_wav" not in answers:
            return _call("producer_generate_wav", audio_id=song_id)
        if "producer_stems_music" not in answers:
            return _call("producer_stems_music", audio_id=song_id)
        return AIMessage(f"Done: song {song_id} is finished, with its lossless WAV and its stems.")


def _json(content: Any) -> dict[str, Any]:
    try:
        value = json.loads(content) if isinstance(content, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _call(name: str, **args: Any) -> AIMessage:
    call_id = f"call_{uuid.uuid4().hex[:12]}"
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])


def _first_song_id(results: list[ToolMessage]) -> str | None:
    """The id of the first finished song any tool reported (stems bundles carry no id)."""
    for message in results:
        answer = _json(message.content)
        if answer.get("state") == "complete":
            for song in answer.get("songs", []):
                if song.get("id"):
                    return str(song["id"])
    return None


def choose_model() -> tuple[BaseChatModel, str]:
    """A real chat model when a key and its package are present, else the scripted one."""
    if os.environ.get("OPENAI_API_KEY") and importlib.util.find_spec("langchain_openai"):
        from langchain_openai import ChatOpenAI

        name = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
        return ChatOpenAI(model=name), f"OpenAI {name}"
    if os.environ.get("ANTHROPIC_API_KEY") and importlib.util.find_spec("langchain_anthropic"):
        from langchain_anthropic import ChatAnthropic

        name = os.environ.get("ANTHROPIC_MODEL", "claude-3-5-haiku-latest")
        return ChatAnthropic(model_name=name), f"Anthropic {name}"  # type: ignore[call-arg]
    return ScriptedProducerModel(), "a scripted stand-in model (no LLM)"


def choose_toolkit() -> tuple[ProducerToolkit, bool]:
    """The real service when ACEDATACLOUD_API_TOKEN is set, else the embedded emulator."""
    if os.environ.get("ACEDATACLOUD_API_TOKEN"):
        return ProducerToolkit(), False
    emulator = ProducerEmulator(pending_seconds=0.5, processing_seconds=2.0)
    toolkit = ProducerToolkit(
        api_key="demo",
        transport=emulator.transport,
        poll_interval=0.25,
        max_poll_interval=0.5,
    )
    return toolkit, True


def run_agent(agent: Any) -> Iterator[ToolMessage]:
    """Stream the agent, printing each step and the song's progress; yield the tool results."""
    inputs = {"messages": [("user", REQUEST)]}
    shown: dict[str, Any] = {}
    for mode, chunk in agent.stream(inputs, stream_mode=["updates", "custom"]):
        if mode == "custom" and isinstance(chunk, dict) and PROGRESS_EVENT in chunk:
            event = chunk[PROGRESS_EVENT]
            seen = (event["state"], event.get("progress"))
            if shown.get(event["task_id"]) != seen:
                shown[event["task_id"]] = seen
                progress = event.get("progress")
                percent = f" {progress:.0f}%" if progress is not None else ""
                print(f"    ... task {event['task_id'][:8]} {event['state']}{percent}")
            continue
        if mode != "updates":
            continue
        for update in chunk.values():
            for message in (update or {}).get("messages", []):
                if isinstance(message, AIMessage):
                    for call in message.tool_calls:
                        print(f"  -> {call['name']}({_short(call['args'])})")
                    if message.content and not message.tool_calls:
                        print(f"  agent: {message.content}")
                elif isinstance(message, ToolMessage):
                    shown_content = _json(message.content) or message.content
                    print(f"  <- {message.name}: {_short(shown_content)}")
                    yield message


def _short(value: Any, limit: int = 110) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def download_results(client: ProducerClient, results: list[ToolMessage]) -> list[Path]:
    """Save the finished song, its WAV and its stems (the tools' typed artifacts) into OUT."""
    saved: list[Path] = []
    last_name = ""

    def progress(p: DownloadProgress) -> None:
        nonlocal last_name
        if p.bytes_total is not None and p.bytes_done == p.bytes_total and p.name != last_name:
            last_name = p.name
            print(f"    saved {p.bytes_done:>7} bytes  {p.name}")

    for message in results:
        artifact = message.artifact
        finished = isinstance(artifact, ProducerTask) and artifact.is_complete
        if finished or isinstance(artifact, WavResult):
            saved += client.download(artifact, OUT, on_progress=progress)
    for path in [p for p in saved if p.suffix == ".zip"]:
        saved += unpack_stems(path)
    return saved


def unpack_stems(archive: Path) -> list[Path]:
    """Unpack a stems zip next to it, each track under a safe name (zip entries are untrusted)."""
    folder = archive.with_suffix("")
    folder.mkdir(exist_ok=True)
    unpacked = []
    with zipfile.ZipFile(archive) as bundle:
        for entry in bundle.infolist():
            if entry.is_dir():
                continue
            stem, _, ext = Path(entry.filename).name.rpartition(".")
            name = f"{safe_name(stem, fallback='track')}.{safe_name(ext, fallback='bin')}"
            target = folder / name
            target.write_bytes(bundle.read(entry))
            unpacked.append(target)
            print(f"    unpacked {len(bundle.read(entry)):>6} bytes  {folder.name}/{name}")
    return unpacked


def fresh_output_folder() -> None:
    """Empty OUT for this run: only a folder an earlier run made (it holds NOTE) is removed."""
    if OUT.exists():
        if not (OUT / NOTE).is_file():
            raise SystemExit(f"{OUT} exists but was not made by this demo: move it away first.")
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / NOTE).write_text(NOTE_TEXT, encoding="utf-8")


def main() -> int:
    started = time.monotonic()
    fresh_output_folder()  # first: a folder that is not ours stops the demo before it starts
    model, model_name = choose_model()
    toolkit, on_emulator = choose_toolkit()
    if on_emulator:
        print(
            "Running on the EMULATOR: an offline stand-in for the Producer API (no token, no "
            "network, no cost). Set ACEDATACLOUD_API_TOKEN to use the real service."
        )
    else:
        print("Running on the real Producer API (ACEDATACLOUD_API_TOKEN is set): calls are billed.")
    print(f"Model: {model_name}.\n")
    tools: list[BaseTool] = toolkit.get_tools(TOOL_NAMES)
    agent = create_agent(model, tools, system_prompt=SYSTEM)

    print(f"User: {REQUEST}\n")
    results = list(run_agent(agent))
    print(f"\nDownloading into {OUT}/ ...")
    saved = download_results(toolkit.producer_client, results)
    toolkit.producer_client.close()

    print(f"\nDone in {time.monotonic() - started:.1f} s. Files in {OUT.resolve()}:")
    for path in saved:
        print(f"  {path.relative_to(OUT.resolve())}")
    if on_emulator:
        print(
            "\nThese files came from the emulator: short generated tones, not real music. "
            "Set ACEDATACLOUD_API_TOKEN to make real songs."
        )
    wavs = [path for path in saved if path.suffix == ".wav"]
    if not wavs:
        print("No WAV file was saved: see the steps above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
