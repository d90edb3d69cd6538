"""The 18 Producer tools, one ``BaseTool`` subclass per operation of the reference server.

- ``_base``: ``ProducerTool``, what every tool shares (arguments, results, errors, progress).
- ``_content``: how a task reads to a model (its state and the next step).
- ``_paid``: a paid tool's call behind the toolkit's approval and spending limit.
- ``audio``, ``media``, ``tasks``, ``info``: the tools themselves.

May import: the client, the protocol's plans, ``safety`` and the vocabulary; never the toolkit.
"""

from langchain_producer.tools._base import (
    POLLING_BRIEF,
    POLLING_GUIDE,
    PROGRESS_EVENT,
    ProducerTool,
)
from langchain_producer.tools.audio import (
    AUDIO_TOOLS,
    AudioTool,
    CoverMusicTool,
    ExtendMusicTool,
    GenerateCustomMusicTool,
    GenerateMusicTool,
    ReplaceSectionTool,
    StemsMusicTool,
    SwapInstrumentalsTool,
    SwapVocalsTool,
    VariationMusicTool,
)
from langchain_producer.tools.info import (
    INFO_TOOLS,
    ListActionsTool,
    ListModelsTool,
    LyricFormatGuideTool,
)
from langchain_producer.tools.media import (
    MEDIA_TOOLS,
    GenerateLyricsTool,
    GenerateVideoTool,
    GenerateWavTool,
    UploadAudioTool,
)
from langchain_producer.tools.tasks import TASK_TOOLS, GetTasksBatchTool, GetTaskTool

ALL_TOOLS: tuple[type[ProducerTool], ...] = AUDIO_TOOLS + MEDIA_TOOLS + TASK_TOOLS + INFO_TOOLS
"""Every tool class, in the order ``ProducerToolkit.get_tools`` returns them."""

__all__ = [
    "ALL_TOOLS",
    "POLLING_BRIEF",
    "POLLING_GUIDE",
    "PROGRESS_EVENT",
    "AudioTool",
    "CoverMusicTool",
    "ExtendMusicTool",
    "GenerateCustomMusicTool",
    "GenerateLyricsTool",
    "GenerateMusicTool",
    "GenerateVideoTool",
    "GenerateWavTool",
    "GetTaskTool",
    "GetTasksBatchTool",
    "ListActionsTool",
    "ListModelsTool",
    "LyricFormatGuideTool",
    "ProducerTool",
    "ReplaceSectionTool",
    "StemsMusicTool",
    "SwapInstrumentalsTool",
    "SwapVocalsTool",
    "UploadAudioTool",
    "VariationMusicTool",
]
