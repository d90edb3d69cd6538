"""Every ```python block of README.md runs, as pasted, against the emulator.

The blocks run in README order in one namespace (a later block may use what an earlier one made,
as a reader following the page would), in a fresh working folder, with:

* the Producer service: the emulator's loopback server, reached the way a user reaches the real
  one (``ACEDATACLOUD_API_TOKEN`` and ``ACEDATACLOUD_API_BASE_URL`` set), so ``ProducerClient()``
  and ``ProducerToolkit()`` work unchanged;
* a real chat model: wherever a block names one (``create_agent("openai:gpt-4.1", ...)``,
  ``init_chat_model``, ``ChatOpenAI``, ``ChatAnthropic``) it gets a scripted stand-in that asks for
  ``producer_generate_music`` once and then answers. No network, no key.

A block that must not run says so in its first line, visibly, with a reason:
``# readme-test: skip (the reason)``. None does today; keep it that way if you can.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import sys
import traceback
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from langchain_producer._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_MODEL_ENV
from langchain_producer.emulator import ProducerEmulator

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
OPT_OUT = re.compile(r"#\s*readme-test:\s*skip\s*\((?P<reason>[^)]*\S[^)]*)\)")


@dataclass(frozen=True)
class Block:
    line: int
    """The README line the code starts on."""
    code: str

    @property
    def skip_reason(self) -> str | None:
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        match = OPT_OUT.match(first)
        return match["reason"].strip() if match else None


def python_blocks(text: str) -> list[Block]:
    """Every ```python block of ``text``, with the line its code starts on."""
    return [
        Block(line=text.count("\n", 0, match.start(1)) + 1, code=match[1])
        for match in FENCE.finditer(text)
    ]


def run_blocks(blocks: Sequence[Block], namespace: dict[str, Any], source: str) -> list[Block]:
    """Run ``blocks`` in order in ``namespace``; return the ones that opted out.

    Top-level ``await`` is allowed (as in Jupyter); such a block runs on one event loop shared by
    every block, so async clients made in one block keep working in the next.

    Raises:
        AssertionError: naming the block's README line, with the traceback, when a block fails.
    """
    skipped: list[Block] = []
    loop = asyncio.new_event_loop()
    try:
        for block in blocks:
            if block.skip_reason is not None:
                skipped.append(block)
                continue
            # Padding keeps traceback line numbers equal to README line numbers.
            padded = "\n" * (block.line - 1) + block.code
            try:
                code = compile(padded, source, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(code, namespace)
                if inspect.iscoroutine(result):
                    loop.run_until_complete(result)
            except Exception as error:
                shown = "".join(traceback.format_exception(error)[-6:])
                raise AssertionError(
                    f"the README block at {source}:{block.line} failed:\n{block.code}\n{shown}"
                ) from error
    finally:
        loop.close()
    return skipped


# --------------------------------------------------------------------------------------------
# The stand-in for a real chat model.


class ScriptedChatModel(BaseChatModel):
    """Asks for ``producer_generate_music`` (with the user's words as the prompt), then answers.

    Whatever provider and model name a README block asks for, this is what it gets.
    """

    model: str = "scripted"
    tool_names: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-readme"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        names = [convert_to_openai_tool(tool)["function"]["name"] for tool in tools]
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if results:
            reply = AIMessage(f"Done. The tool said: {str(results[-1].content)[:300]}")
        elif "producer_generate_music" in self.tool_names:
            asked = next(
                (str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)),
                "a short song",
            )
            call = {"name": "producer_generate_music", "args": {"prompt": asked[:200]}}
            reply = AIMessage("", tool_calls=[{**call, "id": "call-readme-1"}])
        else:
            reply = AIMessage("I have no tool to make music with.")
        return ChatResult(generations=[ChatGeneration(message=reply)])


def scripted_model(*args: Any, **kwargs: Any) -> ScriptedChatModel:
    name = args[0] if args and isinstance(args[0], str) else kwargs.get("model", "scripted")
    return ScriptedChatModel(model=str(name))


def _provider_module(name: str, class_name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    setattr(module, class_name, scripted_model)
    return module


@pytest.fixture
def readme_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The emulator as the service, scripted chat models, a fresh working folder."""
    emulator = ProducerEmulator(pending_seconds=0.0, processing_seconds=0.2)
    with emulator.serve() as server:
        monkeypatch.setenv(API_KEY_ENV, "readme-demo-token")
        monkeypatch.setenv(BASE_URL_ENV, server.base_url)
        monkeypatch.delenv(DEFAULT_MODEL_ENV, raising=False)
        for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            monkeypatch.delenv(key, raising=False)
        import langchain.agents.factory
        import langchain.chat_models

        monkeypatch.setattr(langchain.chat_models, "init_chat_model", scripted_model)
        monkeypatch.setattr(langchain.agents.factory, "init_chat_model", scripted_model)
        monkeypatch.setitem(
            sys.modules, "langchain_openai", _provider_module("langchain_openai", "ChatOpenAI")
        )
        monkeypatch.setitem(
            sys.modules,
            "langchain_anthropic",
            _provider_module("langchain_anthropic", "ChatAnthropic"),
        )
        monkeypatch.chdir(tmp_path)
        yield {"__name__": "__readme__", "emulator": emulator}


# --------------------------------------------------------------------------------------------
# The README itself.


def test_every_readme_python_block_runs(readme_world: dict[str, Any]) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5, "the README lost its code blocks?"
    namespace = dict(readme_world)
    emulator: ProducerEmulator = namespace.pop("emulator")
    skipped = run_blocks(blocks, namespace, "README.md")
    assert skipped == [], [f"README.md:{b.line}: {b.skip_reason}" for b in skipped]
    # The blocks did reach the emulator (a song was made, so the agent block ran its tool).
    submissions = [r for r in emulator.requests if r.url.path == "/producer/audios"]
    assert submissions, "no README block submitted anything to the emulator"
    assert any(json.loads(r.content).get("action") == "generate" for r in submissions)


def test_opt_outs_need_a_visible_reason() -> None:
    for block in python_blocks(README.read_text(encoding="utf-8")):
        first = block.code.lstrip().splitlines()[0] if block.code.strip() else ""
        if "readme-test" in first:
            assert block.skip_reason, f"README.md:{block.line}: an opt-out needs a reason"


# --------------------------------------------------------------------------------------------
# The harness has teeth.

SAMPLE = """Intro.

```python
x = 1
```

```bash
exit 1
```

```python
# readme-test: skip (needs a GPU)
raise RuntimeError("never run")
```

```python
y = x + 1
await_me = None
```

```python
assert y == 3, "wrong"
```
"""


def test_the_harness_finds_blocks_and_reports_the_failing_line() -> None:
    blocks = python_blocks(SAMPLE)
    assert [b.line for b in blocks] == [4, 12, 17, 22]
    assert [b.skip_reason for b in blocks] == [None, "needs a GPU", None, None]
    namespace: dict[str, Any] = {}
    with pytest.raises(AssertionError, match=r"SAMPLE\.md:22 failed") as caught:
        run_blocks(blocks, namespace, "SAMPLE.md")
    assert namespace["y"] == 2  # earlier blocks ran, in one namespace
    assert "line 22" in str(caught.value)  # the traceback points at the README line


def test_the_harness_runs_top_level_await() -> None:
    text = "```python\nimport asyncio\nvalue = await asyncio.sleep(0, result=7)\n```\n"
    namespace: dict[str, Any] = {}
    run_blocks(python_blocks(text), namespace, "ASYNC.md")
    assert namespace["value"] == 7


def test_no_opt_out_without_a_reason() -> None:
    assert Block(line=1, code="# readme-test: skip ()\nx = 1\n").skip_reason is None
    assert Block(line=1, code="# readme-test: skip (slow)\n").skip_reason == "slow"
