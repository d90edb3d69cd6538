"""The Producer protocol in one namespace (for tests and tools): pure plans, no I/O.

It lives in small modules along its seams: ``_steps`` (the plan protocol), ``_wire`` (request
bodies), ``_answers`` (bytes to JSON), ``_tasks`` (task state), ``_results`` (the answers that
return at once), ``_retry`` (retries and errors), ``_polling`` (look-ups and waiting) and
``_operations`` (each API operation, checked); ``_driver`` and ``_lookups`` run plans against
the network.
"""

from langchain_producer._answers import Reply, Unreadable, decode
from langchain_producer._polling import (
    Found,
    PollSchedule,
    get_task,
    get_tasks,
    look_up,
    wait,
    wait_all,
)
from langchain_producer._results import (
    JobFailedError,
    parse_lyrics,
    parse_upload,
    parse_video,
    parse_wav,
)
from langchain_producer._retry import RetryPolicy, api_error, exchange, paid_call, retry_after
from langchain_producer._steps import (
    Draw,
    Effect,
    Lookup,
    Now,
    Outcome,
    Plan,
    Progress,
    Send,
    Sleep,
    Step,
    WallClock,
)
from langchain_producer._tasks import (
    decide_state,
    parse_batch,
    parse_song,
    parse_submission,
    parse_task,
)
from langchain_producer._wire import (
    AUDIOS,
    LYRICS,
    TASKS,
    UPLOAD,
    VIDEOS,
    WAV,
    audios_body,
    retrieve_batch_body,
    retrieve_body,
)

__all__ = [
    "AUDIOS",
    "LYRICS",
    "TASKS",
    "UPLOAD",
    "VIDEOS",
    "WAV",
    "Draw",
    "Effect",
    "Found",
    "JobFailedError",
    "Lookup",
    "Now",
    "Outcome",
    "Plan",
    "PollSchedule",
    "Progress",
    "Reply",
    "RetryPolicy",
    "Send",
    "Sleep",
    "Step",
    "Unreadable",
    "WallClock",
    "api_error",
    "audios_body",
    "decide_state",
    "decode",
    "exchange",
    "get_task",
    "get_tasks",
    "look_up",
    "paid_call",
    "parse_batch",
    "parse_lyrics",
    "parse_song",
    "parse_submission",
    "parse_task",
    "parse_upload",
    "parse_video",
    "parse_wav",
    "retrieve_batch_body",
    "retrieve_body",
    "retry_after",
    "wait",
    "wait_all",
]
