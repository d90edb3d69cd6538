"""The nine ``/producer/audios`` tools: make, extend and transform songs (all billed)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

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
from langchain_producer.protocol import operations as _operations
from langchain_producer.protocol.steps import Plan
from langchain_producer.safety.journal import PlanOptions
from langchain_producer.tools._base import POLLING_BRIEF, ProducerTool
from langchain_producer.tools._content import task_content

_RETURNS_AT_ONCE = "Returns at once."
"""Said only when the tool does not wait: a waiting tool's result speaks for itself."""
_PARKS = "Returns once accepted; the finished song comes later as a new message: do not poll."
"""Said instead of the polling brief when the tool parks its thread."""
_PARKED_HINT = (
    "the finished song will come to this conversation as a new message when the service "
    "calls back. Tell the user it is on its way; do not poll (producer_get_task only if "
    "they ask for news)"
)


Wait = Annotated[bool, Field(description="Wait for the song before answering.")]
Park = Annotated[
    bool,
    Field(description="Return once accepted; the receiver wakes the thread with the song."),
]
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
        park: Return as soon as the job is accepted, so that the run ends and frees its
            worker; when the task ends, the webhook receiver's ``wake_parked_threads`` starts
            a new run on the thread with the finished song (``langchain_producer.webhooks``).
            Needs ``callback_url`` and a LangGraph thread with a store (the journal): a call
            without them waits as ``wait`` says.
    """

    args_schema: type[AudioParams]
    """The action's request class: the model's arguments and the request in one."""
    billable: ClassVar[bool] = True

    wait: Wait = True
    max_wait: SongMaxWait = 600.0
    park: Park = False

    def paid_action(self) -> str:
        return self.args_schema.action

    def guidance(self) -> str:
        if self.park:
            return f"{super().guidance()} {_PARKS}"
        mode = "" if self.wait else f" {_RETURNS_AT_ONCE}"
        return f"{super().guidance()}{mode} {POLLING_BRIEF}"

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[ProducerTask]:
        # LangChain has validated these arguments against args_schema (and refused bad ones
        # with a message): build the request from them without validating them again.
        params = self.args_schema.model_construct(**kwargs)
        return _operations.submit(
            self.client, params, wait=self.wait, max_wait=self.max_wait, park=self.park, **paid
        )

    def content(self, artifact: ProducerTask) -> dict[str, Any]:
        if artifact.parked:
            hint = _PARKED_HINT
        elif self.wait:
            hint = "call producer_get_task with this task_id; it waits for the task itself"
        else:
            hint = "call producer_get_task with this task_id to wait for the song"
        return task_content(artifact, poll_hint=hint)


class GenerateMusicTool(AudioTool):
    """``producer_generate_music``: a song from a description."""

    name: str = "producer_generate_music"
    purpose: ClassVar[str] = (
        "Make a song from a short description, lyrics included (to sing given lyrics: "
        "producer_generate_custom_music)."
    )
    args_schema: type[AudioParams] = Generate


class GenerateCustomMusicTool(AudioTool):
    """``producer_generate_custom_music``: a song that sings the given lyrics."""

    name: str = "producer_generate_custom_music"
    purpose: ClassVar[str] = (
        "Make a song singing the given lyrics, titled and styled (lyric format: "
        "producer_get_lyric_format_guide)."
    )
    args_schema: type[AudioParams] = GenerateCustom


class ExtendMusicTool(AudioTool):
    """``producer_extend_music``: continue a song from a point in it."""

    name: str = "producer_extend_music"
    purpose: ClassVar[str] = (
        "Continue a song from a given second, optionally with new lyrics or style."
    )
    args_schema: type[AudioParams] = Extend


class CoverMusicTool(AudioTool):
    """``producer_cover_music``: a new arrangement of a song."""

    name: str = "producer_cover_music"
    purpose: ClassVar[str] = "Cover a song: the same melody and words in a new style."
    args_schema: type[AudioParams] = Cover


class VariationMusicTool(AudioTool):
    """``producer_variation_music``: a close variation of a song."""

    name: str = "producer_variation_music"
    purpose: ClassVar[str] = "Another take of a song: the same idea with small changes."
    args_schema: type[AudioParams] = Variation


class SwapVocalsTool(AudioTool):
    """``producer_swap_vocals``: new vocals over a song's instrumental."""

    name: str = "producer_swap_vocals"
    purpose: ClassVar[str] = (
        "New vocals, optionally with new lyrics, over a song's own instrumental."
    )
    args_schema: type[AudioParams] = SwapVocals


class SwapInstrumentalsTool(AudioTool):
    """``producer_swap_instrumentals``: a new instrumental under a song's vocals."""

    name: str = "producer_swap_instrumentals"
    purpose: ClassVar[str] = "A new instrumental (described in prompt) under a song's own vocals."
    args_schema: type[AudioParams] = SwapInstrumentals


class ReplaceSectionTool(AudioTool):
    """``producer_replace_section``: regenerate one stretch of a song."""

    name: str = "producer_replace_section"
    purpose: ClassVar[str] = (
        "Regenerate a song between two seconds, keeping the rest (e.g. to rewrite a verse)."
    )
    args_schema: type[AudioParams] = ReplaceSection


class StemsMusicTool(AudioTool):
    """``producer_stems_music``: split a song into tracks."""

    name: str = "producer_stems_music"
    purpose: ClassVar[str] = (
        "Split a song into vocal and instrumental tracks, as a zip (stems_url)."
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
