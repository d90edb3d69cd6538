"""Reference tools: models, actions and the lyric format (free, no network)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from langchain_producer._constants import MODELS
from langchain_producer.params import ToolArgs
from langchain_producer.protocol.steps import Plan
from langchain_producer.safety.journal import PlanOptions
from langchain_producer.tools._base import ProducerTool, called_with

MODEL_NOTES: dict[str, str] = {
    "FUZZ-2.0 Pro": "newest generation, best quality",
    "FUZZ-2.0": "newest generation, the everyday choice",
    "FUZZ-2.0 Raw": "newest generation, less post-processing (for your own mixing)",
    "FUZZ-1.1 Pro": "previous generation, higher quality tier",
    "FUZZ-1.1": "previous generation",
    "FUZZ-1.0 Pro": "first generation, higher quality tier",
    "FUZZ-1.0": "first generation",
    "FUZZ-0.8": "oldest model, kept for old projects",
}

ACTION_GUIDE: dict[str, list[str]] = {
    "make a song": ["producer_generate_music", "producer_generate_custom_music"],
    "write lyrics": ["producer_generate_lyrics"],
    "change a song": [
        "producer_extend_music",
        "producer_cover_music",
        "producer_variation_music",
        "producer_replace_section",
    ],
    "swap a part of a song": ["producer_swap_vocals", "producer_swap_instrumentals"],
    "split or convert a song": [
        "producer_stems_music",
        "producer_generate_wav",
        "producer_generate_video",
    ],
    "bring your own audio": ["producer_upload_audio"],
    "follow tasks": ["producer_get_task", "producer_get_tasks_batch"],
}

WORKFLOWS: list[str] = [
    "Song from an idea: producer_generate_music.",
    "Song from lyrics: producer_generate_lyrics, then producer_generate_custom_music.",
    "Longer song: producer_extend_music from near the end of a finished song.",
    "Own recording: producer_upload_audio, then extend, cover or stems with its audio_id.",
    "Files: producer_generate_wav or producer_stems_music on a finished song's id.",
]

SECTION_MARKERS: dict[str, str] = {
    "[Intro]": "opening, often instrumental",
    "[Verse]": "the story; number them [Verse 1], [Verse 2] when there are several",
    "[Pre-Chorus]": "the lift into the chorus",
    "[Chorus]": "the hook; repeat it word for word each time it comes back",
    "[Bridge]": "one contrasting part, usually after the second chorus",
    "[Outro]": "the ending",
    "[Instrumental]": "a stretch with no singing",
}

LYRIC_TIPS: list[str] = [
    "Put each marker alone on its own line, the sung lines under it.",
    "Short lines (about 4 to 8 words) are easier to sing.",
    "A typical shape: Verse, Chorus, Verse, Chorus, Bridge, Chorus, Outro.",
    "Rhymes and a repeated hook make the chorus stick.",
    "Describe the style in prompt, not in the lyrics.",
]


class _NoArgs(ToolArgs):
    pass


class _InfoTool(ProducerTool):
    args_schema: type[BaseModel] = _NoArgs

    def _start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan[Any]:
        # LangChain skips validation for a schema without fields (and drops the arguments);
        # an unknown argument is still a mistake the model should hear about.
        given = called_with()
        if isinstance(given, dict) and given:
            _NoArgs.model_validate(given)
        return super()._start(args, kwargs)

    def info(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[dict[str, Any]]:
        return self.info()
        yield  # a plan with no step: answered without the network

    def content(self, artifact: dict[str, Any]) -> dict[str, Any]:
        return artifact


class ListModelsTool(_InfoTool):
    """``producer_list_models``: the models and which one is the default."""

    name: str = "producer_list_models"
    purpose: ClassVar[str] = "The music models, what each is for, and the default."

    def info(self) -> dict[str, Any]:
        return {
            "default_model": self.client.default_model,
            "models": [{"model": name, "note": MODEL_NOTES[name]} for name in MODELS],
        }


class ListActionsTool(_InfoTool):
    """``producer_list_actions``: which tool does what."""

    name: str = "producer_list_actions"
    purpose: ClassVar[str] = "Which tool does what, by goal, with common workflows."

    def info(self) -> dict[str, Any]:
        return {"tools_by_goal": ACTION_GUIDE, "workflows": WORKFLOWS}


class LyricFormatGuideTool(_InfoTool):
    """``producer_get_lyric_format_guide``: how to write lyrics the service sings well."""

    name: str = "producer_get_lyric_format_guide"
    purpose: ClassVar[str] = "How to write a lyric argument: section markers and tips."

    def info(self) -> dict[str, Any]:
        example = "[Verse 1]\nLine one of the story\nLine two of the story\n\n[Chorus]\nThe hook"
        return {"section_markers": SECTION_MARKERS, "tips": LYRIC_TIPS, "example": example}


INFO_TOOLS: tuple[type[ProducerTool], ...] = (
    ListModelsTool,
    ListActionsTool,
    LyricFormatGuideTool,
)
