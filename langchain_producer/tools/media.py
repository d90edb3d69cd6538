"""Lyrics, upload, video and WAV: the Producer calls that answer at once (all billed)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from langchain_producer._constants import LYRICS_PROMPT_MAX_CHARS
from langchain_producer.models import Lyrics, UploadedAudio, Video, WavResult
from langchain_producer.params import AudioId, ToolArgs
from langchain_producer.protocol import operations as _operations
from langchain_producer.protocol.steps import Plan
from langchain_producer.safety.journal import PlanOptions
from langchain_producer.tools._base import ProducerTool
from langchain_producer.tools._content import media_content


class LyricsArgs(ToolArgs):
    prompt: Annotated[
        str,
        Field(
            min_length=1,
            max_length=LYRICS_PROMPT_MAX_CHARS,
            description=f"What the song is about, at most {LYRICS_PROMPT_MAX_CHARS} chars.",
        ),
    ]


class UploadArgs(ToolArgs):
    audio_url: Annotated[
        str,
        Field(pattern=r"^https?://[^\s/]+", description="Public http(s) URL of an mp3 file."),
    ]


class AudioIdArgs(ToolArgs):
    audio_id: AudioId


class GenerateLyricsTool(ProducerTool):
    """``producer_generate_lyrics``: write structured lyrics from a description."""

    name: str = "producer_generate_lyrics"
    purpose: ClassVar[str] = (
        "Write lyrics with section markers from a description; returns a title and the text, "
        "for producer_generate_custom_music."
    )
    args_schema: type[BaseModel] = LyricsArgs
    billable: ClassVar[bool] = True
    action: ClassVar[str | None] = "lyrics"

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[Lyrics]:
        return _operations.lyrics(self.client, kwargs["prompt"], **paid)

    def content(self, artifact: Lyrics) -> dict[str, Any]:
        return media_content(artifact)


class UploadAudioTool(ProducerTool):
    """``producer_upload_audio``: make an outside mp3 usable by the audio tools."""

    name: str = "producer_upload_audio"
    purpose: ClassVar[str] = (
        "Register the user's own mp3 (a public URL) for the song tools; returns its audio_id."
    )
    args_schema: type[BaseModel] = UploadArgs
    billable: ClassVar[bool] = True
    action: ClassVar[str | None] = "upload"

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[UploadedAudio]:
        return _operations.upload(self.client, kwargs["audio_url"], **paid)

    def content(self, artifact: UploadedAudio) -> dict[str, Any]:
        return media_content(artifact)


class GenerateVideoTool(ProducerTool):
    """``producer_generate_video``: a music video for a finished song."""

    name: str = "producer_generate_video"
    purpose: ClassVar[str] = "An mp4 music video of a finished song."
    args_schema: type[BaseModel] = AudioIdArgs
    billable: ClassVar[bool] = True
    action: ClassVar[str | None] = "video"

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[Video]:
        return _operations.video(self.client, kwargs["audio_id"], **paid)

    def content(self, artifact: Video) -> dict[str, Any]:
        return media_content(artifact)


class GenerateWavTool(ProducerTool):
    """``producer_generate_wav``: the lossless WAV of a finished song."""

    name: str = "producer_generate_wav"
    purpose: ClassVar[str] = "The lossless WAV file of a finished song."
    args_schema: type[BaseModel] = AudioIdArgs
    billable: ClassVar[bool] = True
    action: ClassVar[str | None] = "wav"

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[WavResult]:
        return _operations.wav(self.client, kwargs["audio_id"], **paid)

    def content(self, artifact: WavResult) -> dict[str, Any]:
        return media_content(artifact)


MEDIA_TOOLS: tuple[type[ProducerTool], ...] = (
    GenerateLyricsTool,
    UploadAudioTool,
    GenerateVideoTool,
    GenerateWavTool,
)
