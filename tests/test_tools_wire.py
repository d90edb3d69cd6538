"""What each of the 18 tools puts on the wire, checked with respx against the vendor's documents.

For every tool that makes a request, sync and async: the path, the Bearer header, the exact JSON
body, and that the body validates against the request schema the vendor documents for that path
(``wire_facts.py``, checked against the vendor's OpenAPI file by ``test_vendor_documents.py``).
Also what the model reads back (content) and what the program gets (the typed artifact), and that
invalid arguments are refused with a message naming the field before anything is sent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pytest
import respx
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from tool_names import AUDIO_TOOL_NAMES, INFO_TOOL_NAMES
from wire_facts import REQUEST_SCHEMAS

from langchain_producer import ProducerToolkit
from langchain_producer._constants import DEFAULT_MODEL_ENV
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    TaskBatch,
    UploadedAudio,
    Video,
    WavResult,
)

BASE_URL = "https://api.test"
API_KEY = "sk-test"
HOOK = "https://hooks.example.com/producer"

NUMERIC_FIELDS = tuple(
    name
    for name, spec in REQUEST_SCHEMAS["/producer/audios"]["properties"].items()
    if spec["type"] == "number"
)


@pytest.fixture(autouse=True)
def _no_model_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default model must come from the toolkit here, not from the developer's shell.
    monkeypatch.delenv(DEFAULT_MODEL_ENV, raising=False)


def make_toolkit(**overrides: Any) -> ProducerToolkit:
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "wait": False,
        "get_task_wait": 0,
    }
    settings.update(overrides)
    return ProducerToolkit(**settings)


def tool_named(name: str, **overrides: Any) -> BaseTool:
    (tool,) = make_toolkit(**overrides).get_tools([name])
    return tool


@contextmanager
def service(path: str | None = None, answer: dict[str, Any] | None = None) -> Iterator[list[Any]]:
    """Mock the API at ``BASE_URL``; yields the list the sent requests are put in.

    With no ``path``, any request under ``BASE_URL`` is recorded (to assert there was none); a
    request to any other host fails the test (respx's ``assert_all_mocked``).
    """
    sent: list[httpx.Request] = []
    with respx.mock(base_url=BASE_URL, assert_all_called=path is not None) as mock:
        if path is None:
            mock.route().mock(return_value=httpx.Response(500))
        else:
            mock.post(path).mock(return_value=httpx.Response(200, json=answer))
        try:
            yield sent
        finally:
            # The router forgets its calls when the block ends: keep them.
            sent.extend(call.request for call in mock.calls)


def tool_call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(name=name, args=args, id="call-1", type="tool_call")


# --------------------------------------------------------------------------------------------
# The vendor's request schemas.


def request_schema(path: str) -> dict[str, Any]:
    return copy.deepcopy(REQUEST_SCHEMAS[path])


def assert_spec_valid(path: str, body: dict[str, Any]) -> None:
    schema = request_schema(path)
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(body)
    # Strict in what we send: only fields the vendor documents for this path.
    assert set(body) <= set(schema["properties"]), set(body) - set(schema["properties"])
    # Never `false` or `null` where a number belongs (the spec's `"default": false` is a trap).
    for name in NUMERIC_FIELDS:
        if name in body:
            assert isinstance(body[name], int | float), (name, body[name])
            assert not isinstance(body[name], bool), (name, body[name])
    assert None not in body.values(), body


def test_schema_check_has_teeth() -> None:
    # The checks above would pass vacuously if the schemas were empty or the patch too broad.
    audios = request_schema("/producer/audios")
    assert {"action", "lyric", "prompt"} <= set(audios["required"])
    good = {"action": "stems", "lyric": "", "prompt": "", "audio_id": "a", "async": True}
    assert_spec_valid("/producer/audios", good)
    for bad in (
        {"action": "stems", "audio_id": "a"},  # lyric and prompt are required
        {**good, "continue_at": False},
        {**good, "weirdness": None},
        {**good, "weirdness": 1.5},
        {**good, "sound_strength": 0.1},
        {**good, "prompt": "x" * 201},
        {**good, "model": "FUZZ-9"},
        {**good, "custom": "true"},
        {key: value for key, value in good.items() if key != "audio_id"},
        {**good, "action": "extend"},  # continue_at
        {**good, "action": "replace_section", "replace_section_start": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft7Validator(audios).validate(bad)
    assert request_schema("/producer/lyrics")["properties"]["prompt"] == {"type": "string"}
    with pytest.raises(jsonschema.ValidationError):
        assert_spec_valid("/producer/lyrics", {"prompt": {"text": "winter"}})
    with pytest.raises(jsonschema.ValidationError):
        assert_spec_valid("/producer/tasks", {"action": "retrieve_batch", "ids": ["a"] * 51})


# --------------------------------------------------------------------------------------------
# Answers the mocked service gives.

SUBMITTED = {"task_id": "task-1"}

RUNNING_RECORD: dict[str, Any] = {
    "id": "task-1",
    "type": "audios",
    "trace_id": "trace-1",
    "created_at": 1767119745.5,
    "started_at": 1767119745.6,
    "finished_at": None,
    "request": {"action": "generate", "prompt": "lofi"},
    "response": {
        "task_id": "task-1",
        "data": [
            {
                "id": "song-1",
                "title": "Lofi",
                "audio_url": "https://cdn.example.com/stream/song-1-preview.mp3",
                "image_url": "https://cdn.example.com/song-1.jpg",
                "state": "processing",
                "progress": "40%",
                "duration": "",
            }
        ],
    },
}


@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    args: dict[str, Any]
    path: str
    body: dict[str, Any]
    answer: dict[str, Any]
    artifact: type
    running: bool = False
    """The content is a running task: task_id, state, should_poll."""
    extra: dict[str, Any] = field(default_factory=dict)


def _audio(action: str, **fields: Any) -> dict[str, Any]:
    return {"action": action, **fields, "async": True}


LYRIC = "[Verse]\nWoke up with the sun\n\n[Chorus]\nGood morning"

CASES: list[Case] = [
    Case(
        "generate",
        "producer_generate_music",
        {"prompt": "lofi beat for studying"},
        "/producer/audios",
        _audio(
            "generate",
            model="FUZZ-2.0",
            lyric="",
            prompt="lofi beat for studying",
            instrumental=False,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "generate-all-fields",
        "producer_generate_music",
        {
            "prompt": "dark techno",
            "model": "FUZZ-2.0 Pro",
            "instrumental": True,
            "lyrics_strength": 0.3,
            "sound_strength": 0.6,
            "weirdness": 0,
            "seed": "2450882164",
        },
        "/producer/audios",
        _audio(
            "generate",
            model="FUZZ-2.0 Pro",
            lyric="",
            prompt="dark techno",
            instrumental=True,
            lyrics_strength=0.3,
            sound_strength=0.6,
            weirdness=0,
            seed="2450882164",
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "generate-custom",
        "producer_generate_custom_music",
        {"lyric": LYRIC, "title": "Morning"},
        "/producer/audios",
        _audio(
            "generate",
            model="FUZZ-2.0",
            lyric=LYRIC,
            prompt="",
            title="Morning",
            instrumental=False,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "generate-custom-styled",
        "producer_generate_custom_music",
        {"lyric": LYRIC, "title": "Morning", "prompt": "indie pop", "model": "FUZZ-1.1"},
        "/producer/audios",
        _audio(
            "generate",
            model="FUZZ-1.1",
            lyric=LYRIC,
            prompt="indie pop",
            title="Morning",
            instrumental=False,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "extend",
        "producer_extend_music",
        {"audio_id": "song-1", "continue_at": 30},
        "/producer/audios",
        _audio("extend", model="FUZZ-2.0", lyric="", prompt="", audio_id="song-1", continue_at=30),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "extend-with-lyric",
        "producer_extend_music",
        {"audio_id": "song-1", "continue_at": 12.5, "lyric": LYRIC, "weirdness": 0.7},
        "/producer/audios",
        _audio(
            "extend",
            model="FUZZ-2.0",
            lyric=LYRIC,
            prompt="",
            audio_id="song-1",
            continue_at=12.5,
            weirdness=0.7,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "cover",
        "producer_cover_music",
        {"audio_id": "song-1", "prompt": "acoustic unplugged"},
        "/producer/audios",
        _audio("cover", model="FUZZ-2.0", lyric="", prompt="acoustic unplugged", audio_id="song-1"),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "cover-with-lyrics",
        "producer_cover_music",
        {
            "audio_id": "song-1",
            "lyric": "[Verse]\nnew words",
            "title": "Cover",
            "instrumental": False,
            "model": "FUZZ-2.0 Pro",
        },
        "/producer/audios",
        _audio(
            "cover",
            model="FUZZ-2.0 Pro",
            lyric="[Verse]\nnew words",
            prompt="",
            audio_id="song-1",
            title="Cover",
            instrumental=False,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "variation-instrumental",
        "producer_variation_music",
        {"audio_id": "song-1", "instrumental": True},
        "/producer/audios",
        _audio(
            "variation", model="FUZZ-2.0", lyric="", prompt="", audio_id="song-1", instrumental=True
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "variation",
        "producer_variation_music",
        {"audio_id": "song-1"},
        "/producer/audios",
        _audio("variation", model="FUZZ-2.0", lyric="", prompt="", audio_id="song-1"),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "swap-vocals",
        "producer_swap_vocals",
        {"audio_id": "song-1"},
        "/producer/audios",
        _audio("swap_vocals", lyric="", prompt="", audio_id="song-1"),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "swap-vocals-with-lyric",
        "producer_swap_vocals",
        {"audio_id": "song-1", "lyric": LYRIC, "lyrics_strength": 1},
        "/producer/audios",
        _audio(
            "swap_vocals",
            lyric=LYRIC,
            prompt="",
            audio_id="song-1",
            lyrics_strength=1,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "swap-instrumentals",
        "producer_swap_instrumentals",
        {"audio_id": "song-1", "prompt": "jazz trio"},
        "/producer/audios",
        _audio(
            "swap_instrumentals", model="FUZZ-2.0", lyric="", prompt="jazz trio", audio_id="song-1"
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "replace-section",
        "producer_replace_section",
        {
            "audio_id": "song-1",
            "replace_section_start": 10,
            "replace_section_end": 20.5,
            "lyric": LYRIC,
        },
        "/producer/audios",
        _audio(
            "replace_section",
            model="FUZZ-2.0",
            lyric=LYRIC,
            prompt="",
            audio_id="song-1",
            replace_section_start=10,
            replace_section_end=20.5,
            custom=True,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "replace-section-no-lyric",
        "producer_replace_section",
        {"audio_id": "song-1", "replace_section_start": 0, "replace_section_end": 5},
        "/producer/audios",
        _audio(
            "replace_section",
            model="FUZZ-2.0",
            lyric="",
            prompt="",
            audio_id="song-1",
            replace_section_start=0,
            replace_section_end=5,
        ),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "stems",
        "producer_stems_music",
        {"audio_id": "song-1"},
        "/producer/audios",
        _audio("stems", lyric="", prompt="", audio_id="song-1"),
        SUBMITTED,
        ProducerTask,
        running=True,
    ),
    Case(
        "lyrics",
        "producer_generate_lyrics",
        {"prompt": "a song about winter"},
        "/producer/lyrics",
        {"prompt": "a song about winter"},
        {
            "success": True,
            "task_id": "lyr-1",
            "data": {"title": "Winter", "text": "[Verse]\nSnow on the roof"},
        },
        Lyrics,
        extra={"title": "Winter", "lyric": "[Verse]\nSnow on the roof"},
    ),
    Case(
        "upload",
        "producer_upload_audio",
        {"audio_url": "https://example.com/my-song.mp3"},
        "/producer/upload",
        {"audio_url": "https://example.com/my-song.mp3"},
        {"success": True, "task_id": "up-1", "data": {"audio_id": "uploaded-1"}},
        UploadedAudio,
        extra={"audio_id": "uploaded-1"},
    ),
    Case(
        "video",
        "producer_generate_video",
        {"audio_id": "song-1"},
        "/producer/videos",
        {"audio_id": "song-1"},
        {
            "success": True,
            "task_id": "vid-1",
            "data": {"video_url": "https://cdn.example.com/song-1.mp4"},
        },
        Video,
        extra={"audio_id": "song-1", "video_url": "https://cdn.example.com/song-1.mp4"},
    ),
    Case(
        "wav",
        "producer_generate_wav",
        {"audio_id": "song-1"},
        "/producer/wav",
        {"audio_id": "song-1"},
        {
            "success": True,
            "task_id": "wav-1",
            "data": [{"title": "Lofi", "file_url": "https://cdn.example.com/song-1.wav"}],
        },
        WavResult,
        extra={
            "audio_id": "song-1",
            "files": [{"title": "Lofi", "file_url": "https://cdn.example.com/song-1.wav"}],
        },
    ),
    Case(
        "get-task",
        "producer_get_task",
        {"task_id": "task-1"},
        "/producer/tasks",
        {"action": "retrieve", "id": "task-1"},
        RUNNING_RECORD,
        ProducerTask,
        running=True,
    ),
    Case(
        "get-tasks-batch",
        "producer_get_tasks_batch",
        {"task_ids": ["task-1", "task-2"]},
        "/producer/tasks",
        {"action": "retrieve_batch", "ids": ["task-1", "task-2"]},
        {"items": [RUNNING_RECORD], "count": 1},
        TaskBatch,
        extra={"not_found": ["task-2"]},
    ),
]


def test_table_covers_every_requesting_tool() -> None:
    names = {tool.name for tool in make_toolkit().get_tools()}
    assert len(names) == 18
    assert {case.tool for case in CASES} == names - set(INFO_TOOL_NAMES)


def _check_exchange(sent: list[httpx.Request], case: Case) -> None:
    assert len(sent) == 1
    request = sent[0]
    assert request.method == "POST"
    assert request.url.host == "api.test"
    assert request.url.path == case.path
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body == case.body
    # `==` says 1 == 1.0 == True; the types matter on the wire.
    for key, value in case.body.items():
        assert type(body[key]) is type(value) or {type(body[key]), type(value)} == {int, float}
    assert_spec_valid(case.path, body)


def _check_result(message: Any, case: Case) -> None:
    assert isinstance(message, ToolMessage)
    assert message.status == "success", message.content
    assert message.tool_call_id == "call-1"
    assert isinstance(message.artifact, case.artifact)
    content = json.loads(message.content)
    if case.running:
        assert content["task_id"] == "task-1"
        assert content["state"] in {"pending", "processing"}
        assert content["should_poll"] is True
        assert message.artifact.task_id == "task-1"
    if case.artifact is TaskBatch:
        (task,) = content["tasks"]
        assert task["task_id"] == "task-1"
        assert task["state"] == "processing"
        assert task["should_poll"] is True
    for key, value in case.extra.items():
        assert content[key] == value


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_wire_sync(case: Case) -> None:
    tool = tool_named(case.tool)
    with service(case.path, case.answer) as sent:
        message = tool.invoke(tool_call(case.tool, case.args))
    _check_exchange(sent, case)
    _check_result(message, case)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_wire_async(case: Case) -> None:
    tool = tool_named(case.tool)
    with service(case.path, case.answer) as sent:
        message = await tool.ainvoke(tool_call(case.tool, case.args))
    _check_exchange(sent, case)
    _check_result(message, case)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_plain_invoke_returns_content_only(case: Case) -> None:
    tool = tool_named(case.tool)
    with service(case.path, case.answer) as sent:
        content = tool.invoke(case.args)
    assert isinstance(content, str)
    assert isinstance(json.loads(content), dict)
    assert json.loads(sent[-1].content) == case.body


# --------------------------------------------------------------------------------------------
# The three reference tools answer without the network.


@pytest.mark.parametrize("name", INFO_TOOL_NAMES)
async def test_info_tools_make_no_request(name: str) -> None:
    tool = tool_named(name)
    with service() as sent:
        sync_message = tool.invoke(tool_call(name, {}))
        async_message = await tool.ainvoke(tool_call(name, {}))
    assert len(sent) == 0
    for message in (sync_message, async_message):
        assert isinstance(message, ToolMessage)
        assert message.status == "success"
        assert isinstance(message.artifact, dict)
        assert json.loads(message.content) == message.artifact


def test_list_models_shows_the_toolkit_default() -> None:
    tool = tool_named("producer_list_models", default_model="FUZZ-2.0 Pro")
    content = json.loads(tool.invoke({}))
    assert content["default_model"] == "FUZZ-2.0 Pro"
    assert len(content["models"]) == 8


# --------------------------------------------------------------------------------------------
# Settings that only the toolkit controls: the default model and the webhook.

AUDIO_CASES = [case for case in CASES if case.path == "/producer/audios"]


@pytest.mark.parametrize("hook", [None, HOOK], ids=["no-webhook", "webhook"])
@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda case: case.id)
async def test_callback_url_is_sent_only_when_configured_and_then_replaces_async(
    case: Case, hook: str | None
) -> None:
    tool = tool_named(case.tool, callback_url=hook)
    expected = dict(case.body)  # "async": true, no callback_url
    if hook:
        del expected["async"]
        expected["callback_url"] = hook
    with service(case.path, SUBMITTED) as sent:
        tool.invoke(case.args)
        await tool.ainvoke(case.args)
    assert len(sent) == 2
    for request in sent:
        body = json.loads(request.content)
        assert body == expected
        assert_spec_valid(case.path, body)


@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda case: case.id)
async def test_default_model_comes_from_the_toolkit(case: Case) -> None:
    tool = tool_named(case.tool, default_model="FUZZ-1.0 Pro")
    with service(case.path, SUBMITTED) as sent:
        tool.invoke(case.args)
        await tool.ainvoke(case.args)
    for request in sent:
        body = json.loads(request.content)
        if "model" not in case.body:
            # swap_vocals and stems: the official examples send no model, neither do we.
            assert "model" not in body
        elif "model" in case.args:
            assert body["model"] == case.args["model"]
        else:
            assert body["model"] == "FUZZ-1.0 Pro"
        assert_spec_valid(case.path, body)


ALL_TOOL_NAMES = tuple(tool.name for tool in make_toolkit().get_tools())


@pytest.mark.parametrize("name", ALL_TOOL_NAMES)
def test_no_tool_takes_callback_url_or_async(name: str) -> None:
    # Even with a webhook configured, the model can neither see nor set it.
    tool = tool_named(name, callback_url=HOOK)
    schema = tool.tool_call_schema
    assert isinstance(schema, type)
    properties = schema.model_json_schema().get("properties", {})
    for forbidden in ("callback_url", "async"):
        assert forbidden not in properties
        assert forbidden not in tool.args
        assert forbidden not in json.dumps(tool.args)


@pytest.mark.parametrize("name", AUDIO_TOOL_NAMES)
def test_model_cannot_set_callback_url(name: str) -> None:
    case = next(case for case in AUDIO_CASES if case.tool == name)
    tool = tool_named(name)
    with service() as sent:
        message = tool.invoke(tool_call(name, {**case.args, "callback_url": "https://evil.test"}))
    assert len(sent) == 0
    assert "callback_url" in message.content
    assert "invalid_arguments" in message.content


# --------------------------------------------------------------------------------------------
# Invalid arguments: a message naming the field, and nothing sent.

INVALID: list[tuple[str, str, dict[str, Any], str]] = [
    ("bad-model", "producer_generate_music", {"prompt": "x", "model": "FUZZ-9"}, "model"),
    ("prompt-201", "producer_generate_music", {"prompt": "a" * 201}, "prompt"),
    (
        "custom-prompt-201",
        "producer_generate_custom_music",
        {"lyric": LYRIC, "title": "T", "prompt": "a" * 201},
        "prompt",
    ),
    ("empty-prompt", "producer_generate_music", {"prompt": ""}, "prompt"),
    (
        "lyrics-strength-high",
        "producer_generate_music",
        {"prompt": "x", "lyrics_strength": 1.01},
        "lyrics_strength",
    ),
    (
        "sound-strength-low",
        "producer_generate_music",
        {"prompt": "x", "sound_strength": 0.1},
        "sound_strength",
    ),
    (
        "weirdness-negative",
        "producer_extend_music",
        {"audio_id": "song-1", "continue_at": 3, "weirdness": -0.1},
        "weirdness",
    ),
    (
        "replace-end-before-start",
        "producer_replace_section",
        {"audio_id": "song-1", "replace_section_start": 20, "replace_section_end": 10},
        "replace_section_end",
    ),
    (
        "replace-end-equals-start",
        "producer_replace_section",
        {"audio_id": "song-1", "replace_section_start": 10, "replace_section_end": 10},
        "replace_section_end",
    ),
    (
        "negative-continue-at",
        "producer_extend_music",
        {"audio_id": "song-1", "continue_at": -1},
        "continue_at",
    ),
    ("empty-audio-id", "producer_cover_music", {"audio_id": ""}, "audio_id"),
    ("blank-audio-id", "producer_stems_music", {"audio_id": "   "}, "audio_id"),
    ("empty-audio-id-video", "producer_generate_video", {"audio_id": ""}, "audio_id"),
    ("empty-audio-id-wav", "producer_generate_wav", {"audio_id": ""}, "audio_id"),
    ("ftp-upload", "producer_upload_audio", {"audio_url": "ftp://example.com/a.mp3"}, "audio_url"),
    ("path-upload", "producer_upload_audio", {"audio_url": "/tmp/a.mp3"}, "audio_url"),
    (
        "51-batch-ids",
        "producer_get_tasks_batch",
        {"task_ids": [f"task-{i}" for i in range(51)]},
        "task_ids",
    ),
    ("empty-batch", "producer_get_tasks_batch", {"task_ids": []}, "task_ids"),
    ("empty-task-id", "producer_get_task", {"task_id": ""}, "task_id"),
    ("blank-task-id", "producer_get_task", {"task_id": "   "}, "task_id"),
    ("extra-argument", "producer_generate_music", {"prompt": "x", "tempo": 120}, "tempo"),
    ("missing-lyric", "producer_generate_custom_music", {"title": "T"}, "lyric"),
    ("empty-lyrics-prompt", "producer_generate_lyrics", {"prompt": ""}, "prompt"),
]


def _check_refusal(message: Any, field_name: str) -> None:
    assert isinstance(message, ToolMessage)
    assert isinstance(message.content, str)
    assert field_name in message.content
    content = json.loads(message.content)
    assert content["error"] == "invalid_arguments"
    assert any(field_name in problem for problem in content["problems"])


@pytest.mark.parametrize(
    ("name", "args", "field_name"),
    [pytest.param(name, args, field_name, id=id_) for id_, name, args, field_name in INVALID],
)
async def test_invalid_arguments_send_nothing(
    name: str, args: dict[str, Any], field_name: str
) -> None:
    tool = tool_named(name)
    with service() as sent:
        sync_message = tool.invoke(tool_call(name, args))
        async_message = await tool.ainvoke(tool_call(name, args))
        plain = tool.invoke(args)
    assert len(sent) == 0
    _check_refusal(sync_message, field_name)
    _check_refusal(async_message, field_name)
    assert field_name in plain


@pytest.mark.parametrize("name", INFO_TOOL_NAMES)
async def test_info_tools_refuse_unknown_arguments(name: str) -> None:
    tool = tool_named(name)
    with service() as sent:
        sync_message = tool.invoke(tool_call(name, {"verbose": True}))
        async_message = await tool.ainvoke(tool_call(name, {"verbose": True}))
    assert len(sent) == 0
    _check_refusal(sync_message, "verbose")
    _check_refusal(async_message, "verbose")


# JSON numbers such as 1e999 parse to float("inf"); a model's tool call can carry one.
INFINITE = json.loads('{"big": 1e999}')["big"]


@pytest.mark.parametrize(
    ("name", "args", "field_name"),
    [
        pytest.param(
            "producer_extend_music",
            {"audio_id": "song-1", "continue_at": INFINITE},
            "continue_at",
            id="extend-continue-at",
        ),
        pytest.param(
            "producer_replace_section",
            {"audio_id": "song-1", "replace_section_start": 1, "replace_section_end": INFINITE},
            "replace_section_end",
            id="replace-section-end",
        ),
    ],
)
async def test_infinite_seconds_are_refused(
    name: str, args: dict[str, Any], field_name: str
) -> None:
    tool = tool_named(name)
    with service() as sent:
        sync_message = tool.invoke(tool_call(name, args))
        async_message = await tool.ainvoke(tool_call(name, args))
    assert len(sent) == 0
    _check_refusal(sync_message, field_name)
    _check_refusal(async_message, field_name)


# --------------------------------------------------------------------------------------------
# Previews: a running task's audio_url is never shown as a result.

PREVIEW_URL = RUNNING_RECORD["response"]["data"][0]["audio_url"]


async def test_running_task_hides_preview_url() -> None:
    tool = tool_named("producer_get_task")
    with service("/producer/tasks", RUNNING_RECORD) as sent:
        messages = [
            tool.invoke(tool_call("producer_get_task", {"task_id": "task-1"})),
            await tool.ainvoke(tool_call("producer_get_task", {"task_id": "task-1"})),
        ]
    assert len(sent) == 2
    for message in messages:
        assert PREVIEW_URL not in message.content
        assert "preview-" not in message.content.replace("preview", "")  # no URL fragment
        content = json.loads(message.content)
        assert content["state"] == "processing"
        assert content["should_poll"] is True
        assert content["progress_percent"] == 40
        assert "songs" not in content
        task = message.artifact
        assert isinstance(task, ProducerTask)
        assert not task.is_complete
        assert task.songs[0].audio_url is None
        assert task.songs[0].preview_url == PREVIEW_URL


async def test_running_batch_hides_preview_url() -> None:
    tool = tool_named("producer_get_tasks_batch")
    answer = {"items": [RUNNING_RECORD], "count": 1}
    with service("/producer/tasks", answer) as sent:
        message = await tool.ainvoke(
            tool_call("producer_get_tasks_batch", {"task_ids": ["task-1"]})
        )
    assert len(sent) == 1
    assert PREVIEW_URL not in message.content
    batch = message.artifact
    assert isinstance(batch, TaskBatch)
    assert batch.tasks[0].songs[0].audio_url is None
    assert batch.tasks[0].songs[0].preview_url == PREVIEW_URL


def test_finished_task_shows_final_url() -> None:
    final_url = "https://cdn.example.com/song-1.mp3"
    record = copy.deepcopy(RUNNING_RECORD)
    record["finished_at"] = 1767119785.6
    record["elapsed"] = 40.0
    record["response"]["data"][0].update(
        audio_url=final_url, state="succeeded", progress="100%", duration="181.30"
    )
    tool = tool_named("producer_get_task")
    with service("/producer/tasks", record) as sent:
        message = tool.invoke(tool_call("producer_get_task", {"task_id": "task-1"}))
    assert len(sent) == 1
    content = json.loads(message.content)
    assert content["state"] == "complete"
    assert "should_poll" not in content
    assert content["songs"][0]["audio_url"] == final_url
    assert content["songs"][0]["duration_seconds"] == 181.3
    assert message.artifact.songs[0].audio_url == final_url
    assert message.artifact.songs[0].preview_url is None
