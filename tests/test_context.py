"""What the 18 tools cost a model on every turn, and what that text must still say.

The figure is the one the issue set: every tool as an OpenAI tool definition
(``convert_to_openai_tool``), each ``json.dumps``'d, summed. ``benchmarks/context.py`` prints it
beside the reference MCP server's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from tool_names import AUDIO_TOOL_NAMES

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.tools import POLLING_BRIEF, POLLING_GUIDE

BUDGET = 12_000
"""Characters for all 18 definitions: about half of what they cost before (23,746), and under
the reference MCP server's 22,918."""

MODES = [
    {"wait": True, "get_task_wait": 30},  # the defaults
    {"wait": False, "get_task_wait": 0},  # mcp-producer's way: answer at once, poll
]


def _tools(**settings: Any) -> list[BaseTool]:
    toolkit = ProducerToolkit(api_key="k", transport=ProducerEmulator().transport, **settings)
    return toolkit.get_tools()


def _definitions(tools: list[BaseTool]) -> dict[str, dict[str, Any]]:
    return {tool.name: convert_to_openai_tool(tool)["function"] for tool in tools}


@pytest.mark.parametrize("settings", MODES, ids=["wait", "no-wait"])
def test_all_tools_fit_the_context_budget(settings: dict[str, Any]) -> None:
    tools = _tools(**settings)
    total = sum(len(json.dumps(convert_to_openai_tool(tool))) for tool in tools)
    assert len(tools) == 18
    assert total <= BUDGET, f"{total} characters of tool definitions (budget {BUDGET})"


@pytest.mark.parametrize("settings", MODES, ids=["wait", "no-wait"])
def test_task_states_are_explained_fully_once_and_briefly_wherever_a_task_starts(
    settings: dict[str, Any],
) -> None:
    definitions = _definitions(_tools(**settings))
    full = [name for name, spec in definitions.items() if POLLING_GUIDE in spec["description"]]
    assert full == ["producer_get_task"]
    for phrase in ("'pending'", "'processing'", "keep polling", "Only 'complete'", "'failed'"):
        assert phrase in POLLING_GUIDE
    assert "preview, never the finished song" in POLLING_GUIDE
    # The brief version names the running states, the one finished state and the preview trap.
    for phrase in ("'pending'/'processing'", "producer_get_task", "only 'complete'", "preview"):
        assert phrase in POLLING_BRIEF
    song_tools = AUDIO_TOOL_NAMES
    assert len(song_tools) == 9
    for name in song_tools:
        assert POLLING_BRIEF in definitions[name]["description"], name
    assert "producer_get_task" in definitions["producer_get_tasks_batch"]["description"]


def test_paid_tools_say_so_and_free_tools_say_so() -> None:
    for tool in _tools():
        description = tool.description
        if tool.metadata["billable"] is True:
            assert "Paid per call: never repeat one." in description, tool.name
        else:
            assert "Free." in description, tool.name


def _constraint_numbers(schema: dict[str, Any]) -> list[str]:
    numbers = [
        f"{schema[key]:g}"
        for key in ("maxLength", "minimum", "maximum", "maxItems")
        if isinstance(schema.get(key), int | float)
    ]
    numbers += [f"{schema[key]:g}" for key in ("minLength", "minItems") if schema.get(key, 1) > 1]
    return numbers


def test_every_limit_is_also_said_in_words() -> None:
    # Some providers (Gemini) drop schema constraints: the description must carry them.
    checked = 0
    for name, spec in _definitions(_tools()).items():
        for field, schema in spec["parameters"]["properties"].items():
            description = schema.get("description", "")
            for number in _constraint_numbers(schema) + _constraint_numbers(
                schema.get("items", {})
            ):
                assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", description), (
                    name,
                    field,
                    number,
                    description,
                )
                checked += 1
    assert checked >= 30  # the check has something to check


def test_optional_fields_show_no_null_and_no_default_yet_accept_both() -> None:
    definitions = _definitions(_tools())
    text = json.dumps(definitions)
    assert '"null"' not in text and '"default"' not in text and "anyOf" not in text
    (tool,) = (tool for tool in _tools() if tool.name == "producer_extend_music")
    arguments = {"audio_id": "a1", "continue_at": 30, "model": None, "weirdness": None}
    assert tool.args_schema.model_validate(arguments).model is None  # type: ignore[union-attr]


def test_the_model_is_shown_exactly_the_fields_langchain_would_show() -> None:
    # ProducerTool.tool_call_schema returns the args_schema itself (to keep its lean JSON
    # schema); that is only right while no argument is injected by LangChain: pin it.
    for tool in _tools():
        langchain_own = BaseTool.tool_call_schema.fget(tool)  # type: ignore[attr-defined]
        ours = tool.tool_call_schema
        assert isinstance(ours, type) and isinstance(langchain_own, type)
        assert set(ours.model_fields) == set(langchain_own.model_fields), tool.name
        assert ours is tool.args_schema


def test_unknown_arguments_are_still_refused_though_the_schema_no_longer_says_so() -> None:
    (tool,) = (tool for tool in _tools() if tool.name == "producer_generate_music")
    answer = tool.invoke({"prompt": "waltz", "tempo": 90})
    assert "invalid_arguments" in answer and "tempo" in answer
