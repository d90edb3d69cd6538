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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from langchain_producer._constants import PROMPT_MAX_CHARS, AudioAction, ProducerModel

AudioId = Annotated[
    str,
    Field(
        min_length=1,
        pattern=r"\S",
        description=(
            "Id of the song to work on: the `id` of a song in an earlier task result, or the "
            "`audio_id` returned by producer_upload_audio."
        ),
    ),
]
StylePrompt = Annotated[
    str,
    Field(
        max_length=PROMPT_MAX_CHARS,
        description=(
            f"Style of the music, at most {PROMPT_MAX_CHARS} characters: genre, mood, tempo, "
            "instruments (e.g. 'dreamy synth-pop, 90 bpm, female vocals')."
        ),
    ),
]
Lyric = Annotated[
    str,
    Field(
        description=(
            "Lyrics to sing, structured with section markers on their own lines: [Intro], "
            "[Verse], [Pre-Chorus], [Chorus], [Bridge], [Outro]."
        ),
    ),
]
Model = Annotated[
    ProducerModel | None,
    Field(
        description=(
            "Producer model. Leave unset for the configured default (FUZZ-2.0 unless changed); "
            "'FUZZ-2.0 Pro' gives the highest quality."
        ),
    ),
]
Instrumental = Annotated[bool, Field(description="True for music without vocals.")]
Title = Annotated[str, Field(max_length=200, description="Title of the song.")]
Seconds = Annotated[
    float, Field(ge=0, allow_inf_nan=False, description="A position in the song, in seconds.")
]
LyricsStrength = Annotated[
    float | None,
    Field(ge=0, le=1, description="0 to 1: how strongly the lyrics steer the music."),
]
SoundStrength = Annotated[
    float | None,
    Field(ge=0.2, le=1, description="0.2 to 1: how strongly the style prompt steers the sound."),
]
Weirdness = Annotated[
    float | None,
    Field(ge=0, le=1, description="0 to 1: how experimental the result may be."),
]
Seed = Annotated[
    str | None,
    Field(min_length=1, description="Seed to reproduce a result; reuse it for a similar song."),
]


class AudioParams(BaseModel):
    """Fields shared by every ``/producer/audios`` action. Subclasses fix the action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        Field(
            min_length=1,
            description=(
                f"What the song should be, at most {PROMPT_MAX_CHARS} characters: genre, mood, "
                "instruments, theme (e.g. 'a happy birthday song with acoustic guitar')."
            ),
        ),
    ]


class GenerateCustom(_NewSong):
    """A new song that sings the given lyrics, in the given style, under the given title."""

    custom: ClassVar[bool | None] = True

    lyric: Annotated[Lyric, Field(min_length=1)]
    title: Title
    prompt: StylePrompt = ""


class Extend(AudioParams):
    """Continue a song from a point in it, optionally with new lyrics or a new style."""

    action: ClassVar[AudioAction] = "extend"

    audio_id: AudioId
    continue_at: Annotated[
        Seconds, Field(description="Where the continuation starts, in seconds into the song.")
    ]
    lyric: Annotated[Lyric, Field(description="Lyrics for the new part; empty to improvise.")] = ""
    prompt: Annotated[
        StylePrompt, Field(description="Style of the new part; empty keeps the song's style.")
    ] = ""
    title: Title | None = None
    model: Model = None
    lyrics_strength: LyricsStrength = None
    sound_strength: SoundStrength = None
    weirdness: Weirdness = None


class Cover(AudioParams):
    """A cover of a song: same melody and words, new arrangement or genre."""

    action: ClassVar[AudioAction] = "cover"

    audio_id: AudioId
    prompt: Annotated[
        StylePrompt, Field(description="The style of the cover (e.g. 'acoustic unplugged').")
    ] = ""
    lyric: Annotated[Lyric, Field(description="New lyrics for the cover; empty keeps them.")] = ""
    title: Title | None = None
    instrumental: Annotated[bool | None, Field(description="True for a cover without vocals.")] = (
        None
    )
    model: Model = None


class Variation(AudioParams):
    """A variation of a song: the same idea with small changes."""

    action: ClassVar[AudioAction] = "variation"

    audio_id: AudioId
    prompt: Annotated[StylePrompt, Field(description="What to vary; empty to let it choose.")] = ""
    lyric: Annotated[Lyric, Field(description="Lyrics for the variation; empty keeps them.")] = ""
    instrumental: Annotated[
        bool | None, Field(description="True for a variation without vocals.")
    ] = None
    model: Model = None


class SwapVocals(AudioParams):
    """New vocals over the song's own instrumental."""

    action: ClassVar[AudioAction] = "swap_vocals"

    audio_id: AudioId
    lyric: Annotated[Lyric, Field(description="Lyrics for the new vocals; empty keeps them.")] = ""
    lyrics_strength: LyricsStrength = None
    weirdness: Weirdness = None


class SwapInstrumentals(AudioParams):
    """A new instrumental under the song's own vocals."""

    action: ClassVar[AudioAction] = "swap_instrumentals"

    audio_id: AudioId
    prompt: Annotated[
        StylePrompt, Field(description="Style of the new instrumental; empty to let it choose.")
    ] = ""
    weirdness: Weirdness = None
    model: Model = None


class ReplaceSection(AudioParams):
    """Regenerate one stretch of a song, keeping the rest."""

    action: ClassVar[AudioAction] = "replace_section"

    audio_id: AudioId
    replace_section_start: Annotated[
        Seconds, Field(description="Start of the stretch to replace, in seconds.")
    ]
    replace_section_end: Annotated[
        Seconds, Field(description="End of the stretch to replace, in seconds; after the start.")
    ]
    lyric: Annotated[Lyric, Field(description="Lyrics for the new stretch; empty to keep.")] = ""
    prompt: Annotated[StylePrompt, Field(description="Style of the new stretch.")] = ""
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


AUDIO_PARAMS: tuple[type[AudioParams], ...] = (
    Generate,
    GenerateCustom,
    Extend,
    Cover,
    Variation,
    SwapVocals,
    SwapInstrumentals,
    ReplaceSection,
    Stems,
)
