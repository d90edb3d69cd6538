"""Where the tools lean on LangChain's private behaviour, these tests pin what they rely on, so
an upgrade of langchain-core that changes it fails here instead of silently in an agent."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import BaseTool
from langchain_core.tools.base import FILTERED_ARGS
from tool_names import INFO_TOOL_NAMES

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.params import ReplaceSection

REPLACE = {"audio_id": "a1", "replace_section_start": 1, "replace_section_end": 5}


def _tools(emulator: ProducerEmulator) -> dict[str, BaseTool]:
    toolkit = ProducerToolkit(api_key="k", transport=emulator.transport, wait=False)
    return {tool.name: tool for tool in toolkit.get_tools()}


class _CountingValidator:
    """Stands in for a model's pydantic validator and counts the validations."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def validate_python(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.validate_python(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_arguments_are_validated_once_per_call(
    emulator: ProducerEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LangChain validates against args_schema; AudioTool.plan builds the request from that.
    counting = _CountingValidator(ReplaceSection.__pydantic_validator__)
    monkeypatch.setattr(ReplaceSection, "__pydantic_validator__", counting)
    tool = _tools(emulator)["producer_replace_section"]
    tool.invoke(REPLACE)
    assert counting.calls == 1
    bad = tool.invoke({**REPLACE, "replace_section_end": 0})  # still refused, before sending
    assert "invalid_arguments" in bad and "replace_section_end" in bad
    assert not [r for r in emulator.requests if r.url.path == "/producer/audios"][1:]


class _Inputs(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any] | None] = []

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self.seen.append(kwargs.get("inputs"))


def test_filter_injected_args_override_agrees_with_langchain_and_is_still_called(
    emulator: ProducerEmulator,
) -> None:
    # ProducerTool._filter_injected_args skips LangChain's per-call scan of the schema for
    # injected arguments (there are none). It must give what LangChain's own would, and
    # LangChain must still call it, for what callbacks see as the tool's inputs.
    for tool in _tools(emulator).values():
        given = {"audio_id": "a1", "prompt": "x", **dict.fromkeys(FILTERED_ARGS)}
        ours = tool._filter_injected_args(given)
        assert ours == BaseTool._filter_injected_args(tool, given), tool.name
        assert not set(ours) & set(FILTERED_ARGS)
    handler = _Inputs()
    tool = _tools(emulator)["producer_get_task"]
    tool.invoke({"task_id": "t-1"}, config={"callbacks": [handler]})
    assert handler.seen == [{"task_id": "t-1"}]


@pytest.mark.parametrize("name", INFO_TOOL_NAMES)
def test_langchain_still_skips_validation_for_a_schema_without_fields(
    emulator: ProducerEmulator, name: str
) -> None:
    # Why _InfoTool overrides _to_args_and_kwargs: LangChain ignores every argument given to a
    # tool whose schema has no fields. If it starts validating them, the override can go.
    tool = _tools(emulator)[name]
    assert BaseTool._to_args_and_kwargs(tool, {"verbose": True}, None) == ((), {})
    answer = tool.invoke({"verbose": True})
    assert "invalid_arguments" in answer and "verbose" in answer
