"""Facts about the Producer service that every layer may share (the emulator included).

Only vocabulary lives here: names, enumerations and defaults taken from the vendor's documents.
No request building, parsing or state logic: the emulator must not share those with the client.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

ProducerModel = Literal[
    "FUZZ-2.0 Pro",
    "FUZZ-2.0",
    "FUZZ-2.0 Raw",
    "FUZZ-1.1 Pro",
    "FUZZ-1.0 Pro",
    "FUZZ-1.0",
    "FUZZ-1.1",
    "FUZZ-0.8",
]
"""Every model the ``/producer/audios`` endpoint accepts."""

AudioAction = Literal[
    "generate",
    "cover",
    "extend",
    "variation",
    "swap_vocals",
    "swap_instrumentals",
    "replace_section",
    "stems",
]
"""Every ``action`` of ``/producer/audios``."""

MODELS: Final[tuple[str, ...]] = get_args(ProducerModel)
AUDIO_ACTIONS: Final[tuple[str, ...]] = get_args(AudioAction)

DEFAULT_MODEL: Final = "FUZZ-2.0"
DEFAULT_BASE_URL: Final = "https://api.acedata.cloud"
API_KEY_ENV: Final = "ACEDATACLOUD_API_TOKEN"
BASE_URL_ENV: Final = "ACEDATACLOUD_API_BASE_URL"
DEFAULT_MODEL_ENV: Final = "PRODUCER_DEFAULT_MODEL"

CALLBACK_ROUTE: Final = "/producer/callback/{secret}"
"""The webhook receiver's one route (``langchain_producer.webhooks``); ``{secret}`` is the
deployment's callback secret, the only guard of an unauthenticated POST."""

PROMPT_MAX_CHARS: Final = 200
"""The documented limit of the style ``prompt`` of ``/producer/audios``."""

TITLE_MAX_CHARS: Final = 200
"""Our cap on a song ``title``. The vendor documents none: a bound so that a runaway model
cannot send pages of text as a title."""

LYRICS_PROMPT_MAX_CHARS: Final = 2000
"""Our cap on the ``prompt`` of ``/producer/lyrics`` (the vendor documents none; see
``TITLE_MAX_CHARS``)."""

BATCH_MAX_IDS: Final = 50
"""The most task ids one ``retrieve_batch`` call should carry."""
