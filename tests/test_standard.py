"""LangChain's standard tool suites for all 18 Producer tools, run offline on the emulator.

One unit-test class and one integration-test class per tool are generated into this module's
globals. Every tool of a class shares one ``ProducerClient`` on one emulator, so a tool that works
on an existing song (extend, cover, stems, ...) gets the id of a song that emulator really made,
and the integration suite's calls succeed end to end (no failure turned into a message: the
suite asserts a non-None artifact, which an error message never carries).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_producer import ProducerClient
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    TaskBatch,
    UploadedAudio,
    Video,
    WavResult,
)
from langchain_producer.params import Generate
from langchain_producer.tools import (
    ALL_TOOLS,
    CoverMusicTool,
    ExtendMusicTool,
    GenerateCustomMusicTool,
    GenerateLyricsTool,
    GenerateMusicTool,
    GenerateVideoTool,
    GenerateWavTool,
    GetTasksBatchTool,
    GetTaskTool,
    ListActionsTool,
    ListModelsTool,
    LyricFormatGuideTool,
    ProducerTool,
    ReplaceSectionTool,
    StemsMusicTool,
    SwapInstrumentalsTool,
    SwapVocalsTool,
    UploadAudioTool,
    VariationMusicTool,
)
from langchain_producer.tools.audio import AudioTool
from langchain_producer.tools.tasks import TaskLookupTool


class _World:
    """One emulator, one client on it, and a finished song made there."""

    def __init__(self) -> None:
        self.emulator = ProducerEmulator(pending_seconds=0, processing_seconds=0)
        self.client = ProducerClient(
            api_key="sk-test",
            transport=self.emulator.transport,
            poll_interval=0.01,
            max_poll_interval=0.05,
        )
        task = self.client.submit(Generate(prompt="warm-up song"), wait=True, max_wait=10)
        assert task.is_complete, task
        self.task_id = task.task_id
        song_id = task.songs[0].id
        assert song_id
        self.song_id: str = song_id


@cache
def _world() -> _World:
    return _World()


def _example_args(cls: type[ProducerTool]) -> dict[str, Any]:
    world = _world()
    song = world.song_id
    examples: dict[type[ProducerTool], dict[str, Any]] = {
        GenerateMusicTool: {"prompt": "a happy birthday song with acoustic guitar"},
        GenerateCustomMusicTool: {
            "lyric": "[Verse]\nHello sun\n\n[Chorus]\nGood morning",
            "title": "Morning",
            "prompt": "indie pop",
        },
        ExtendMusicTool: {"audio_id": song, "continue_at": 1.0},
        CoverMusicTool: {"audio_id": song, "prompt": "acoustic unplugged"},
        VariationMusicTool: {"audio_id": song},
        SwapVocalsTool: {"audio_id": song},
        SwapInstrumentalsTool: {"audio_id": song, "prompt": "jazz trio"},
        ReplaceSectionTool: {
            "audio_id": song,
            "replace_section_start": 0.5,
            "replace_section_end": 1.5,
        },
        StemsMusicTool: {"audio_id": song},
        GenerateLyricsTool: {"prompt": "a road trip with old friends"},
        UploadAudioTool: {"audio_url": "https://example.com/my-song.mp3"},
        GenerateVideoTool: {"audio_id": song},
        GenerateWavTool: {"audio_id": song},
        GetTaskTool: {"task_id": world.task_id},
        GetTasksBatchTool: {"task_ids": [world.task_id]},
        ListModelsTool: {},
        ListActionsTool: {},
        LyricFormatGuideTool: {},
    }
    return examples[cls]


def _constructor_params(cls: type[ProducerTool]) -> dict[str, Any]:
    params: dict[str, Any] = {"client": _world().client}
    if issubclass(cls, AudioTool):
        params.update(wait=True, max_wait=10.0)
    elif issubclass(cls, TaskLookupTool):
        params.update(max_wait=5.0)
    return params


EXPECTED_ARTIFACT: dict[type[ProducerTool], type | tuple[type, ...]] = {
    **{cls: ProducerTask for cls in ALL_TOOLS if issubclass(cls, AudioTool)},
    GenerateLyricsTool: Lyrics,
    UploadAudioTool: UploadedAudio,
    GenerateVideoTool: Video,
    GenerateWavTool: WavResult,
    GetTaskTool: ProducerTask,
    GetTasksBatchTool: TaskBatch,
    ListModelsTool: dict,
    ListActionsTool: dict,
    LyricFormatGuideTool: dict,
}


class _ProducerToolParams:
    """What the standard suites need to build and call one Producer tool."""

    producer_tool: type[ProducerTool]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.producer_tool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return _constructor_params(self.producer_tool)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return _example_args(self.producer_tool)


def _class_suffix(cls: type[ProducerTool]) -> str:
    return cls.__name__.removesuffix("Tool")


for _cls in ALL_TOOLS:
    _suffix = _class_suffix(_cls)
    globals()[f"TestUnit{_suffix}"] = type(
        f"TestUnit{_suffix}", (_ProducerToolParams, ToolsUnitTests), {"producer_tool": _cls}
    )
    globals()[f"TestIntegration{_suffix}"] = type(
        f"TestIntegration{_suffix}",
        (_ProducerToolParams, ToolsIntegrationTests),
        {"producer_tool": _cls},
    )
del _cls, _suffix


# --------------------------------------------------------------------------------------------
# Beyond the standard suites: each example really succeeds and yields the right typed artifact
# (the standard suite only asks for a non-None artifact).


def test_every_tool_is_covered() -> None:
    assert set(EXPECTED_ARTIFACT) == set(ALL_TOOLS)
    assert len(ALL_TOOLS) == 18
    generated = {name for name in globals() if name.startswith(("TestUnit", "TestIntegration"))}
    assert len(generated) == 36


def _call(cls: type[ProducerTool]) -> ToolCall:
    return ToolCall(
        name=cls.model_fields["name"].default, args=_example_args(cls), id="c1", type="tool_call"
    )


@pytest.mark.parametrize("cls", ALL_TOOLS, ids=_class_suffix)
def test_example_succeeds_with_typed_artifact(cls: type[ProducerTool]) -> None:
    tool = cls(**_constructor_params(cls))
    message = tool.invoke(_call(cls))
    assert isinstance(message, ToolMessage)
    assert message.status == "success", message.content
    assert isinstance(message.artifact, EXPECTED_ARTIFACT[cls])
    if isinstance(message.artifact, ProducerTask):
        assert message.artifact.is_complete, message.content


@pytest.mark.parametrize("cls", ALL_TOOLS, ids=_class_suffix)
async def test_example_succeeds_with_typed_artifact_async(cls: type[ProducerTool]) -> None:
    tool = cls(**_constructor_params(cls))
    message = await tool.ainvoke(_call(cls))
    assert isinstance(message, ToolMessage)
    assert message.status == "success", message.content
    assert isinstance(message.artifact, EXPECTED_ARTIFACT[cls])
    if isinstance(message.artifact, ProducerTask):
        assert message.artifact.is_complete, message.content
