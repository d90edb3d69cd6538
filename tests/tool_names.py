"""The reference MCP server's tool names, written out once: the tests pin our names to them."""

AUDIO_TOOL_NAMES = (
    "producer_generate_music",
    "producer_generate_custom_music",
    "producer_extend_music",
    "producer_cover_music",
    "producer_variation_music",
    "producer_swap_vocals",
    "producer_swap_instrumentals",
    "producer_replace_section",
    "producer_stems_music",
)
MEDIA_TOOL_NAMES = (
    "producer_generate_lyrics",
    "producer_upload_audio",
    "producer_generate_video",
    "producer_generate_wav",
)
TASK_TOOL_NAMES = ("producer_get_task", "producer_get_tasks_batch")
INFO_TOOL_NAMES = (
    "producer_list_models",
    "producer_list_actions",
    "producer_get_lyric_format_guide",
)
REFERENCE_NAMES = frozenset(AUDIO_TOOL_NAMES + MEDIA_TOOL_NAMES + TASK_TOOL_NAMES + INFO_TOOL_NAMES)
FREE_NAMES = frozenset(TASK_TOOL_NAMES + INFO_TOOL_NAMES)
