"""What to ask of ``/producer/audios``: one validated model per action.

The same classes are the typed input of ``ProducerClient.submit`` and the argument schemas the
agent tools show a model, so a constraint is written once and enforced before any network call.

Examples:
    >>> from langchain_producer.params import Extend
    >>> Extend(audio_id="6c94", continue_at=30).action
    'extend'
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from langchain_producer._constants import (
    PROMPT_MAX_CHARS,
    TITLE_MAX_CHARS,
    AudioAction,
    ProducerModel,
)

# What the model reads is paid for on every turn of an agent: field descriptions are short, and
# every limit is said in words too (some providers, e.g. Gemini, drop schema constraints).
# Optional fields leave ``null`` out of their JSON schema (``SkipJsonSchema``): omitting a field
# is how a model leaves it unset, and an explicit ``null`` is still accepted.


def _model_facing(schema: dict[str, Any]) -> None:
    # Omitting an argument is how a model leaves it at its default, which the description
    # states where it matters: a "default" key per field would only cost context, as would
    # "additionalProperties" (unknown arguments are refused with a message naming them).
    schema.pop("additionalProperties", None)
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown ones refused, a lean JSON schema for the model."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_model_facing)


def not_blank(value: str) -> str:
    """``value`` if it has a character that is not a space, else ``ValueError``."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


NonBlank = AfterValidator(not_blank)
"""Refuses a string of only spaces (checked here rather than as a schema pattern)."""

AudioId = Annotated[str, Field(description="Id of a finished or uploaded song."), NonBlank]
StylePrompt = Annotated[
    str,
    Field(
        max_length=PROMPT_MAX_CHARS,
        description=f"Style (genre, mood, instruments), at most {PROMPT_MAX_CHARS} chars.",
    ),
]
Lyric = Annotated[
    str, Field(description="Lyrics; section markers like [Verse] on their own lines.")
]
Model = ProducerModel | SkipJsonSchema[None]
"""None: the client's ``default_model``. No description: the enum says enough to a model."""
Instrumental = bool
"""True: no vocals. No description: the name says enough to a model."""
Title = Annotated[
    str, Field(max_length=TITLE_MAX_CHARS, description=f"At most {TITLE_MAX_CHARS} chars.")
]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
LyricsStrength = Annotated[
    Annotated[float, Field(ge=0, le=1)] | SkipJsonSchema[None],
    Field(description="0 to 1: lyrics influence."),
]
SoundStrength = Annotated[
    Annotated[float, Field(ge=0.2, le=1)] | SkipJsonSchema[None],
    Field(description="0.2 to 1: style influence."),
]
Weirdness = Annotated[
    Annotated[float, Field(ge=0, le=1)] | SkipJsonSchema[None],
    Field(description="0 to 1: how experimental."),
]
Seed = Annotated[str, NonBlank] | SkipJsonSchema[None]
OptionalTitle = Annotated[
    Annotated[str, Field(max_length=TITLE_MAX_CHARS)] | SkipJsonSchema[None],
    Field(description=f"New title, at most {TITLE_MAX_CHARS} chars."),
]
OptionalInstrumental = bool | SkipJsonSchema[None]


class AudioParams(ToolArgs):
    """Fields shared by every ``/producer/audios`` action. Subclasses fix the action."""

    model_config = ConfigDict(frozen=True)

    action: ClassVar[AudioAction]
    custom: ClassVar[bool | None] = None
    """Sent as ``custom`` when set: True means 'sing the given lyric'. When unset, a request
    that carries a lyric is sent with ``custom: true`` (as the official examples pair them)."""

    def wire_fields(self) -> dict[str, Any]:
        """The fields set on this request, as the service names them (unset ones left out)."""
        fields = self.model_dump(exclude_none=True)
        if self.custom is not None:
            fields["custom"] = self.custom
        elif fields.get("lyric"):
            fields["custom"] = True
        return fields


class _NewSong(AudioParams):
    """The controls of a brand-new song (both generate tools)."""

    action: ClassVar[AudioAction] = "generate"

    model: Model = None
    instrumental: Instrumental = False
    lyrics_strength: LyricsStrength = None
    sound_strength: SoundStrength = None
    weirdness: Weirdness = None
    seed: Seed = None


class Generate(_NewSong):
    """A new song from a description: the service writes the lyrics and the arrangement."""

    prompt: Annotated[
        StylePrompt,
        Field(description=f"The song (genre, mood, theme), at most {PROMPT_MAX_CHARS} chars."),
        NonBlank,
    ]


class GenerateCustom(_NewSong):
    """A new song that sings the given lyrics, in the given style, under the given title."""

    custom: ClassVar[bool | None] = True

    lyric: Annotated[Lyric, NonBlank]
    title: Title
    prompt: StylePrompt = ""


class Extend(AudioParams):
    """Continue a song from a point in it, optionally with new lyrics or a new style."""

    action: ClassVar[AudioAction] = "extend"

    audio_id: AudioId
    continue_at: Annotated[Seconds, Field(description="Second (>= 0) the new part starts at.")]
    lyric: Annotated[Lyric, Field(description="Lyrics of the new part; empty: improvise.")] = ""
    prompt: Annotated[
        StylePrompt,
        Field(description=f"Style of the new part, at most {PROMPT_MAX_CHARS} chars; empty: same."),
    ] = ""
    title: OptionalTitle = None
    model: Model = None
    lyrics_strength: LyricsStrength = None
    sound_strength: SoundStrength = None
    weirdness: Weirdness = None


class Cover(AudioParams):
    """A cover of a song: same melody and words, new arrangement or genre."""

    action: ClassVar[AudioAction] = "cover"

    audio_id: AudioId
    prompt: StylePrompt = ""
    lyric: Annotated[Lyric, Field(description="New lyrics; empty keeps them.")] = ""
    title: OptionalTitle = None
    instrumental: OptionalInstrumental = None
    model: Model = None


class Variation(AudioParams):
    """A variation of a song: the same idea with small changes."""

    action: ClassVar[AudioAction] = "variation"

    audio_id: AudioId
    prompt: StylePrompt = ""
    lyric: Annotated[Lyric, Field(description="New lyrics; empty keeps them.")] = ""
    instrumental: OptionalInstrumental = None
    model: Model = None


class SwapVocals(AudioParams):
    """New vocals over the song's own instrumental."""

    action: ClassVar[AudioAction] = "swap_vocals"

    audio_id: AudioId
    lyric: Annotated[Lyric, Field(description="New lyrics; empty keeps them.")] = ""
    lyrics_strength: LyricsStrength = None
    weirdness: Weirdness = None


class SwapInstrumentals(AudioParams):
    """A new instrumental under the song's own vocals."""

    action: ClassVar[AudioAction] = "swap_instrumentals"

    audio_id: AudioId
    prompt: StylePrompt = ""
    weirdness: Weirdness = None
    model: Model = None


class ReplaceSection(AudioParams):
    """Regenerate one stretch of a song, keeping the rest."""

    action: ClassVar[AudioAction] = "replace_section"

    audio_id: AudioId
    replace_section_start: Annotated[Seconds, Field(description="Start second (>= 0).")]
    replace_section_end: Annotated[Seconds, Field(description="End second (>= 0), after start.")]
    lyric: Annotated[Lyric, Field(description="Lyrics of the new part; empty keeps them.")] = ""
    prompt: StylePrompt = ""
    model: Model = None

    @model_validator(mode="after")
    def _end_after_start(self) -> ReplaceSection:
        if self.replace_section_end <= self.replace_section_start:
            raise ValueError(
                "replace_section_end must be greater than replace_section_start "
                f"(got start={self.replace_section_start}, end={self.replace_section_end})"
            )
        return self


class Stems(AudioParams):
    """Split a song into separate tracks (vocals and instrumental), delivered as a zip."""

    action: ClassVar[AudioAction] = "stems"

    audio_id: AudioId
