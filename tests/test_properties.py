"""Property tests (hypothesis): whatever a model passes to any of the 18 tools, and whatever a
broken or hostile service answers to any parser, the outcome is a validated request or a clear
refusal, a parsed model or a ``ProducerError``: never another exception, never a bad request.

Examples are bounded (``max_examples``) and have no deadline, so the suite stays fast and steady
on a busy machine.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from langchain_producer import ProducerToolkit
from langchain_producer.errors import ProducerError
from langchain_producer.models import ProducerTask
from langchain_producer.params import AudioParams
from langchain_producer.protocol.answers import Reply, Unreadable, decode
from langchain_producer.protocol.results import parse_lyrics, parse_upload, parse_video, parse_wav
from langchain_producer.protocol.retry import RetryPolicy, exchange
from langchain_producer.protocol.tasks import parse_batch, parse_submission, parse_task
from langchain_producer.tools import AudioTool
from langchain_producer.tools._content import task_content

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# Values a model (or a service) might send: ordinary, extreme and wrong.

HUGE = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1])
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "NaN", "inf", "1e999", "50%", "FUZZ-2.0", "https://x/a.mp3"]),
    st.text(min_size=190, max_size=2100).filter(lambda s: len(s) > 180),
)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), HUGE, FLOATS, TEXT)
JSON_ANY = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)

# ---------------------------------------------------------------------------------------------
# Random tool arguments: nothing but validated requests are ever sent.

SONG_RECORD = {
    "id": "t-1",
    "started_at": 1.0,
    "finished_at": 2.0,
    "response": {"data": [{"id": "s1", "state": "succeeded", "audio_url": "https://a/s.mp3"}]},
}
ANSWERS: dict[str, Any] = {
    "/producer/audios": {"task_id": "t-1"},
    "/producer/lyrics": {"success": True, "task_id": "l", "data": {"text": "[Verse]"}},
    "/producer/upload": {"success": True, "task_id": "u", "data": {"audio_id": "a"}},
    "/producer/videos": {"success": True, "task_id": "v", "data": {"video_url": "https://v"}},
    "/producer/wav": {"success": True, "task_id": "w", "data": [{"file_url": "https://w"}]},
    "/producer/tasks": SONG_RECORD,
}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.sent.append((request.url.path, body))
        if request.url.path == "/producer/tasks" and body.get("action") == "retrieve_batch":
            return httpx.Response(200, json={"items": [SONG_RECORD], "count": 1})
        return httpx.Response(200, json=ANSWERS[request.url.path])


RECORDER = Recorder()
TOOLKIT = ProducerToolkit(
    api_key="k",
    transport=httpx.MockTransport(RECORDER),
    wait=False,
    get_task_wait=0,
    max_retries=0,
)
TOOLS = {tool.name: tool for tool in TOOLKIT.get_tools()}
assert len(TOOLS) == 18


def field_names(tool_name: str) -> list[str]:
    schema = TOOLS[tool_name].args_schema
    fields = getattr(schema, "model_fields", {})
    return [name for name, info in fields.items() if not info.exclude]


PLAUSIBLE = st.one_of(
    st.floats(0, 1), st.integers(0, 400), st.text("abc [Verse]", min_size=1, max_size=30)
)
"""Values that often pass validation, so accepted calls are exercised as much as refused ones."""


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(TOOLS)))
    fields = field_names(name)
    keys = st.sampled_from([*fields, "junk", "callback_url", "async"])
    plausible = {key: draw(PLAUSIBLE) for key in fields if draw(st.booleans())}
    args = draw(st.dictionaries(keys, JSON_ANY, max_size=3))
    return name, {**plausible, **args} if draw(st.booleans()) else plausible


@PROPERTY
@given(tool_calls())
@example(("producer_generate_music", {"prompt": "rain", "weirdness": 0.5}))  # accepted paths
@example(("producer_cover_music", {"audio_id": "0"}))
@example(("producer_extend_music", {"audio_id": "s1", "continue_at": 30}))
def test_any_arguments_to_any_tool_give_a_valid_request_or_a_clear_refusal(
    call: tuple[str, dict[str, Any]],
) -> None:
    name, args = call
    tool = TOOLS[name]
    RECORDER.sent.clear()
    # A fresh id per example, as a model gives: the toolkit never sends one tool call twice.
    call_id = uuid.uuid4().hex
    message = tool.invoke({"type": "tool_call", "id": call_id, "name": name, "args": args})
    shown = json.loads(message.content)  # valid JSON, whatever came in
    if message.status == "error":
        assert shown["error"] in ("invalid_arguments", "invalid_request"), shown
        assert shown["message"] and shown["next_step"]
        assert RECORDER.sent == [], "a refused call sent nothing"
        return
    paid = [body for path, body in RECORDER.sent if path != "/producer/tasks"]
    assert len(paid) <= 1, "one call, at most one paid request"
    if isinstance(tool, AudioTool):
        (body,) = paid
        assert "callback_url" not in body, "the model can never set the webhook"
        assert body["async"] is True
        check_audio_body(tool.args_schema, body)


def check_audio_body(schema: type[AudioParams], body: dict[str, Any]) -> None:
    """What was sent validates as the action's request, and holds no non-finite number."""
    for value in body.values():
        if isinstance(value, float):
            assert math.isfinite(value)
    fields = {k: v for k, v in body.items() if k in schema.model_fields and k != "action"}
    schema.model_validate(fields)
    assert body["action"] == schema.action


# ---------------------------------------------------------------------------------------------
# Random and hostile answers: every parser returns a model or raises a ProducerError.

KEYS = st.sampled_from(
    [
        "id",
        "task_id",
        "type",
        "response",
        "data",
        "success",
        "error",
        "items",
        "state",
        "progress",
        "duration",
        "audio_url",
        "finished_at",
        "started_at",
        "text",
        "file_url",
        "video_url",
        "audio_id",
        "title",
        "created_at",
        "code",
        "message",
        "request",
    ]
)
ANSWER = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | TEXT, inner, max_size=5),
    max_leaves=25,
)
OBJECTS = st.dictionaries(KEYS, ANSWER, max_size=6)

PARSERS = {
    "task": lambda body: parse_task(body, "t-1"),
    "batch": lambda body: parse_batch(body, ["t-1", "t-2"]),
    "submission": lambda body: parse_submission(body, None, "generate"),
    "lyrics": parse_lyrics,
    "upload": parse_upload,
    "video": lambda body: parse_video(body, "s1"),
    "wav": lambda body: parse_wav(body, "s1"),
}


def shown_to_model(result: Any) -> None:
    """What a tool would show of a parsed task: strict JSON (no NaN), never a crash."""
    tasks = [result] if isinstance(result, ProducerTask) else getattr(result, "tasks", [])
    for task in tasks:
        json.dumps(task_content(task, poll_hint="poll"), allow_nan=False)


@PROPERTY
@given(st.sampled_from(sorted(PARSERS)), OBJECTS)
def test_any_answer_to_any_parser_is_parsed_or_a_producer_error(
    parser: str, body: dict[str, Any]
) -> None:
    nested = {"id": "t-1", "response": body} if parser == "task" else body
    for candidate in (body, nested):
        try:
            result = PARSERS[parser](candidate)
        except ProducerError as error:
            assert error.to_dict()["error"]
            continue
        shown_to_model(result)


@PROPERTY
@given(
    st.integers(100, 599),
    st.one_of(st.binary(max_size=200), OBJECTS.map(lambda o: json.dumps(o).encode())),
    st.sampled_from([{}, {"content-encoding": "gzip"}, {"content-encoding": "deflate, br"}]),
    st.booleans(),
)
def test_any_bytes_from_the_wire_become_an_answer_or_a_producer_error(
    status: int, raw: bytes, headers: dict[str, str], paid: bool
) -> None:
    reply = Reply(status, httpx.Headers(headers), raw)
    assert isinstance(decode(reply), dict | Unreadable)
    plan = exchange("/producer/audios", {}, paid=paid, policy=RetryPolicy(max_retries=0))
    plan.send(None)
    try:
        plan.send(reply)
    except StopIteration as done:
        assert isinstance(done.value, dict)
    except ProducerError:
        pass
