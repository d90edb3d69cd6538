"""The nine ``/producer/audios`` tools: make, extend and transform songs (all billed)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from langchain_producer._api import Plan
from langchain_producer.models import ProducerTask
from langchain_producer.params import (
    AudioParams,
    Cover,
    Extend,
    Generate,
    GenerateCustom,
    ReplaceSection,
    Stems,
    SwapInstrumentals,
    SwapVocals,
    Variation,
)
from langchain_producer.tools._base import POLLING_GUIDE, ProducerTool, task_content

_BILLING = "Each call starts a new paid job: never call it twice for the same request."


_WAITS = (
    "The tool waits for the song and returns it finished; if it answers with a task that is "
    "still running, follow it with producer_get_task."
)
_RETURNS_AT_ONCE = (
    "The tool answers at once with a task_id: follow it with producer_get_task until the "
    "state is 'complete'."
)


Wait = Annotated[bool, Field(description="Wait for the song before answering.")]
SongMaxWait = Annotated[
    float,
    Field(gt=0, allow_inf_nan=False, description="With wait, the most seconds to wait."),
]


class AudioTool(ProducerTool):
    """A tool that submits one ``/producer/audios`` action, then (by default) waits for it.

    Attributes:
        wait: Wait for the song before answering (one tool call gives a finished song). When
            False, answer at once with the task id for ``producer_get_task``.
        max_wait: With ``wait``, the most seconds to wait before handing back the running task.
    """

    args_schema: type[AudioParams]
    """The action's request class: the model's arguments and the request in one."""
    billable: ClassVar[bool] = True

    wait: Wait = True
    max_wait: SongMaxWait = 600.0

    def guidance(self) -> str:
        mode = _WAITS if self.wait else _RETURNS_AT_ONCE
        return f"{_BILLING} {mode} {POLLING_GUIDE}"

    def plan(self, **kwargs: Any) -> Plan[ProducerTask]:
        return self.client.plan_submit(
            self.args_schema(**kwargs), wait=self.wait, max_wait=self.max_wait
        )

    def content(self, artifact: ProducerTask) -> dict[str, Any]:
        hint = (
            "call producer_get_task with this task_id; it waits for the task itself"
            if self.wait
            else "call producer_get_task with this task_id to wait for the song"
        )
        return task_content(artifact, poll_hint=hint)


class GenerateMusicTool(AudioTool):
    """``producer_generate_music``: a song from a description."""

    name: str = "producer_generate_music"
    purpose: ClassVar[str] = (
        "Create a new song from a short description; the service writes lyrics, melody "
        "and arrangement. Use it when the user wants music and gives no lyrics of their "
        "own; to sing given lyrics use producer_generate_custom_music."
    )
    args_schema: type[AudioParams] = Generate


class GenerateCustomMusicTool(AudioTool):
    """``producer_generate_custom_music``: a song that sings the given lyrics."""

    name: str = "producer_generate_custom_music"
    purpose: ClassVar[str] = (
        "Create a new song that sings the given lyrics, with a title and a style. Use it "
        "when the lyrics are known (the user's, or from producer_generate_lyrics). See "
        "producer_get_lyric_format_guide for section markers."
    )
    args_schema: type[AudioParams] = GenerateCustom


class ExtendMusicTool(AudioTool):
    """``producer_extend_music``: continue a song from a point in it."""

    name: str = "producer_extend_music"
    purpose: ClassVar[str] = (
        "Continue an existing song from a given second, optionally with new lyrics or "
        "style. Use it to make a song longer or add a bridge or outro; audio_id is a "
        "finished song's id or an uploaded audio_id."
    )
    args_schema: type[AudioParams] = Extend


class CoverMusicTool(AudioTool):
    """``producer_cover_music``: a new arrangement of a song."""

    name: str = "producer_cover_music"
    purpose: ClassVar[str] = (
        "Make a cover of an existing song: same melody and words, new genre or "
        "arrangement. Use it for 'the same song, but acoustic / as jazz / as metal'."
    )
    args_schema: type[AudioParams] = Cover


class VariationMusicTool(AudioTool):
    """``producer_variation_music``: a close variation of a song."""

    name: str = "producer_variation_music"
    purpose: ClassVar[str] = (
        "Make a variation of an existing song: the same idea with small changes. Use it "
        "when the user likes a song but wants another take of it."
    )
    args_schema: type[AudioParams] = Variation


class SwapVocalsTool(AudioTool):
    """``producer_swap_vocals``: new vocals over a song's instrumental."""

    name: str = "producer_swap_vocals"
    purpose: ClassVar[str] = (
        "Replace the vocals of an existing song, keeping its instrumental. Use it to hear "
        "the same backing with a new vocal take or new lyrics."
    )
    args_schema: type[AudioParams] = SwapVocals


class SwapInstrumentalsTool(AudioTool):
    """``producer_swap_instrumentals``: a new instrumental under a song's vocals."""

    name: str = "producer_swap_instrumentals"
    purpose: ClassVar[str] = (
        "Replace the instrumental of an existing song, keeping its vocals. Use it to put "
        "the same singing over different music (describe it in prompt)."
    )
    args_schema: type[AudioParams] = SwapInstrumentals


class ReplaceSectionTool(AudioTool):
    """``producer_replace_section``: regenerate one stretch of a song."""

    name: str = "producer_replace_section"
    purpose: ClassVar[str] = (
        "Regenerate the part of an existing song between two times (in seconds), keeping "
        "the rest. Use it to fix or rewrite one verse or chorus."
    )
    args_schema: type[AudioParams] = ReplaceSection


class StemsMusicTool(AudioTool):
    """``producer_stems_music``: split a song into tracks."""

    name: str = "producer_stems_music"
    purpose: ClassVar[str] = (
        "Split an existing song into separate vocal and instrumental tracks, delivered as "
        "a zip (stems_url). Use it for karaoke versions, remixing or isolating the voice."
    )
    args_schema: type[AudioParams] = Stems


AUDIO_TOOLS: tuple[type[AudioTool], ...] = (
    GenerateMusicTool,
    GenerateCustomMusicTool,
    ExtendMusicTool,
    CoverMusicTool,
    VariationMusicTool,
    SwapVocalsTool,
    SwapInstrumentalsTool,
    ReplaceSectionTool,
    StemsMusicTool,
)
