"""``_answers``: the one place where bytes off the wire become JSON (or a reason why not)."""

from __future__ import annotations

import gzip
import json
import zlib

import httpx
import pytest

from langchain_producer import ProducerClient
from langchain_producer.errors import ProducerConnectionError
from langchain_producer.protocol.answers import Reply, Unreadable, decode, describe, finite

BODY = {"task_id": "t-1", "trace_id": "tr"}
RAW = json.dumps(BODY).encode()


def reply(body: bytes, **headers: str) -> Reply:
    return Reply(200, httpx.Headers(headers), body)


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (gzip.compress(RAW), "gzip"),
        (zlib.compress(RAW), "deflate"),
        (RAW, "gzip"),  # the label lies: plain JSON said to be gzip
        (RAW, "br"),  # a coding we never asked for, on a plain body
        (RAW, "identity"),
        (gzip.compress(gzip.compress(RAW)), "gzip, gzip"),
    ],
    ids=["gzip", "deflate", "gzip-lie", "br-lie", "identity", "double-gzip"],
)
def test_content_encoding_is_undone_or_seen_through(body: bytes, encoding: str) -> None:
    assert decode(reply(body, **{"content-encoding": encoding})) == BODY


@pytest.mark.parametrize(
    ("body", "what", "task_id"),
    [
        (b"", "an empty body", None),
        (b"   \n", "an empty body", None),
        (b"<html>502</html>", "not JSON", None),
        (b'{"task_id": "t-9", "data": [', "not JSON", "t-9"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply", None),
        (b'{"task_id": "t-8", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested", "t-8"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not JSON", None),
        (b"[1, 2]", "not an object", None),
        (b"\xff\xfe\x00garbage", "not JSON", None),
    ],
    ids=["empty", "blank", "html", "cut-json", "deep", "deep-with-id", "huge-int", "list", "bin"],
)
def test_unreadable_answers_say_why_and_keep_a_readable_task_id(
    body: bytes, what: str, task_id: str | None
) -> None:
    answer = decode(reply(body))
    assert isinstance(answer, Unreadable)
    assert what in answer.what
    assert answer.task_id == task_id


def test_a_body_cut_short_is_unreadable_but_its_task_id_survives() -> None:
    cut = Reply(200, httpx.Headers(), b'{"task_id": "t-5", "trace', broken="ReadError: reset")
    answer = decode(cut)
    assert isinstance(answer, Unreadable)
    assert answer.task_id == "t-5" and "ReadError" in answer.what


def test_nan_and_infinity_literals_read_as_absent() -> None:
    assert decode(reply(b'{"p": NaN, "q": Infinity, "r": -Infinity}')) == {
        "p": None,
        "q": None,
        "r": None,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("181.30", 181.3),
        ("40%", 40.0),
        (7, 7.0),
        (10**400, None),
        ("1e999", None),
        (float("nan"), None),
        (float("-inf"), None),
        (True, None),
        ("x" * 100, None),
        ([1], None),
    ],
)
def test_finite_numbers_only(value: object, expected: float | None) -> None:
    assert finite(value) == expected


@pytest.mark.parametrize(
    "error",
    [httpx.ReadError(""), httpx.ConnectError(""), httpx.RemoteProtocolError(""), OSError()],
)
def test_errors_without_text_are_described_in_words(error: Exception) -> None:
    text = describe(error)
    assert text.startswith(type(error).__name__ + ": ")
    assert len(text) > len(type(error).__name__) + 8


async def test_async_transport_error_with_empty_text_still_says_what_happened() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("")  # what async transports often raise

    client = ProducerClient(
        api_key="k",
        base_url="http://producer.test",
        max_retries=0,
        transport=httpx.MockTransport(broken),
    )
    with pytest.raises(ProducerConnectionError) as caught:
        await client.aget_task("t-1")
    assert "ReadError: the connection broke" in caught.value.message
