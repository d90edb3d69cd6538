"""Lyrics, upload, video and WAV: the Producer calls that answer at once (all billed)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from langchain_producer._api import Plan
from langchain_producer.models import Lyrics, UploadedAudio, Video, WavResult
from langchain_producer.params import AudioId
from langchain_producer.tools._base import ProducerTool

_BILLED = "Billed per call: call it once per request."


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LyricsArgs(_Args):
    prompt: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            description="What the song is about, e.g. 'a road trip with old friends, upbeat'.",
        ),
    ]


class UploadArgs(_Args):
    audio_url: Annotated[
        str,
        Field(
            pattern=r"^https?://[^\s/]+",
            description="Public http(s) link to an mp3 file (e.g. https://example.com/a.mp3).",
        ),
    ]


class AudioIdArgs(_Args):
    audio_id: AudioId


class GenerateLyricsTool(ProducerTool):
    """``producer_generate_lyrics``: write structured lyrics from a description."""

    name: str = "producer_generate_lyrics"
    description: str = (
        "Write song lyrics, with section markers such as [Verse] and [Chorus], from a short "
        "description. Answers at once with a title and the text. Use it before "
        "producer_generate_custom_music when the user wants a song but has no lyrics and "
        f"wants to see or edit them first. {_BILLED}"
    )
    args_schema: type[BaseModel] = LyricsArgs
    billable: ClassVar[bool] = True

    def plan(self, **kwargs: Any) -> Plan[Lyrics]:
        return self.client.plan_lyrics(kwargs["prompt"])

    def content(self, artifact: Lyrics) -> dict[str, Any]:
        return {
            "title": artifact.title,
            "lyric": artifact.text,
            "next_step": "Pass lyric (and title) to producer_generate_custom_music to sing it.",
        }


class UploadAudioTool(ProducerTool):
    """``producer_upload_audio``: make an outside mp3 usable by the audio tools."""

    name: str = "producer_upload_audio"
    description: str = (
        "Register an audio file from a public URL so it can be extended, covered, varied, "
        "swapped or split. Answers at once with its audio_id. Use it when the user brings "
        f"their own song. {_BILLED}"
    )
    args_schema: type[BaseModel] = UploadArgs
    billable: ClassVar[bool] = True

    def plan(self, **kwargs: Any) -> Plan[UploadedAudio]:
        return self.client.plan_upload(kwargs["audio_url"])

    def content(self, artifact: UploadedAudio) -> dict[str, Any]:
        return {
            "audio_id": artifact.audio_id,
            "next_step": "Use this audio_id with extend, cover, variation, swaps or stems.",
        }


class GenerateVideoTool(ProducerTool):
    """``producer_generate_video``: a music video for a finished song."""

    name: str = "producer_generate_video"
    description: str = (
        "Render a music video (mp4) for a finished song, given the song's id as audio_id. "
        f"Only for songs whose task is 'complete'. {_BILLED}"
    )
    args_schema: type[BaseModel] = AudioIdArgs
    billable: ClassVar[bool] = True

    def plan(self, **kwargs: Any) -> Plan[Video]:
        return self.client.plan_video(kwargs["audio_id"])

    def content(self, artifact: Video) -> dict[str, Any]:
        return {"audio_id": artifact.audio_id, "video_url": artifact.video_url}


class GenerateWavTool(ProducerTool):
    """``producer_generate_wav``: the lossless WAV of a finished song."""

    name: str = "producer_generate_wav"
    description: str = (
        "Get a lossless WAV file of a finished song, given the song's id as audio_id. "
        f"Only for songs whose task is 'complete'. {_BILLED}"
    )
    args_schema: type[BaseModel] = AudioIdArgs
    billable: ClassVar[bool] = True

    def plan(self, **kwargs: Any) -> Plan[WavResult]:
        return self.client.plan_wav(kwargs["audio_id"])

    def content(self, artifact: WavResult) -> dict[str, Any]:
        return {
            "audio_id": artifact.audio_id,
            "files": [{"title": f.title, "file_url": f.file_url} for f in artifact.files],
        }


MEDIA_TOOLS: tuple[type[ProducerTool], ...] = (
    GenerateLyricsTool,
    UploadAudioTool,
    GenerateVideoTool,
    GenerateWavTool,
)
