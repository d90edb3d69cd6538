"""The in-repo facts and the emulator's answers, cross-checked with the vendor's OpenAPI file.

The wire tests read their facts from ``wire_facts.py`` only, so they run on a bare clone. Where a
copy of the vendor's OpenAPI document sits beside the repository (``../shared/reference/
producer-openapi.json``, also looked for beside each folder above; or the file named by
``PRODUCER_OPENAPI``), these tests check that the facts still say what it says, and that the
emulator's answers fit its response schemas. Without the file they are skipped, and say so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from wire_facts import KNOWN_OPENAPI_DEFECTS, RANGES_FROM_GUIDES, REQUEST_SCHEMAS

from langchain_producer.emulator import FakeClock, ProducerEmulator

ROOT = Path(__file__).resolve().parents[1]
RELATIVE = Path("shared/reference/producer-openapi.json")


def find_openapi() -> Path | None:
    """The vendor's OpenAPI file: ``$PRODUCER_OPENAPI``, else ``shared/...`` beside an ancestor."""
    named = os.environ.get("PRODUCER_OPENAPI")
    if named:
        return Path(named) if Path(named).is_file() else None
    for folder in ROOT.parents:
        if (folder / RELATIVE).is_file():
            return folder / RELATIVE
    return None


OPENAPI = find_openapi()
pytestmark = pytest.mark.skipif(
    OPENAPI is None,
    reason=(
        f"the vendor's OpenAPI file is not beside this repository (looked for ../{RELATIVE} "
        "from the repository and each folder above it, and $PRODUCER_OPENAPI): the in-repo facts "
        "in tests/wire_facts.py were NOT cross-checked"
    ),
)


@cache
def spec() -> dict[str, Any]:
    assert OPENAPI is not None
    loaded: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return loaded


def vendor_request(path: str) -> dict[str, Any]:
    operation = spec()["paths"][path]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


# --------------------------------------------------------------------------- request facts


def test_the_facts_cover_every_vendor_path() -> None:
    assert set(REQUEST_SCHEMAS) == set(spec()["paths"])


@pytest.mark.parametrize("path", sorted(REQUEST_SCHEMAS))
def test_fields_and_required_match(path: str) -> None:
    ours, theirs = REQUEST_SCHEMAS[path], vendor_request(path)
    assert set(ours["properties"]) == set(theirs["properties"])
    assert sorted(ours.get("required", [])) == sorted(theirs.get("required", []))


FIELDS = [(path, name) for path, schema in REQUEST_SCHEMAS.items() for name in schema["properties"]]


@pytest.mark.parametrize(("path", "name"), FIELDS, ids=[f"{p}:{n}" for p, n in FIELDS])
def test_each_field_matches(path: str, name: str) -> None:
    ours = REQUEST_SCHEMAS[path]["properties"][name]
    theirs = vendor_request(path)["properties"][name]
    defect = KNOWN_OPENAPI_DEFECTS.get((path, name))
    if defect is not None:
        # The known defect is still exactly what it was; if the vendor fixes it, this says so.
        assert theirs["type"] == defect != ours["type"]
    else:
        assert ours["type"] == theirs["type"]
    assert ours.get("enum") == theirs.get("enum")
    if "items" in theirs:
        assert ours["items"] == {"type": theirs["items"]["type"]}
    # Ranges come from the guides: the OpenAPI must not say anything else about them.
    for keyword in RANGES_FROM_GUIDES:
        if keyword in theirs:
            assert ours.get(keyword) == theirs[keyword], keyword


def test_the_numeric_default_false_trap_is_still_there() -> None:
    # Why the client never sends false for a number and the emulator reads false as "not given".
    properties = vendor_request("/producer/audios")["properties"]
    numbers = [name for name, field in properties.items() if field["type"] == "number"]
    assert numbers and all(properties[name].get("default") is False for name in numbers)


# --------------------------------------------------------------------------- emulator answers


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` means "or null"; jsonschema needs it spelt out."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable_to_json_schema(v) for k, v in node.items()}
    if converted.pop("nullable", False) and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


@pytest.fixture
def api() -> Iterator[tuple[httpx.Client, FakeClock]]:
    clock = FakeClock()
    emu = ProducerEmulator(clock=clock)
    with httpx.Client(
        transport=emu.transport,
        base_url="http://producer.emulator",
        headers={"Authorization": "Bearer k"},
    ) as client:
        yield client, clock


def test_emulator_answers_match_the_vendor_openapi(api: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = api
    converted = _nullable_to_json_schema(spec())
    record_schema = {**converted["components"]["schemas"]["ProducerTaskRecord"]}
    record_schema["components"] = converted["components"]

    def response_schema(path: str) -> dict[str, Any]:
        operation = converted["paths"][path]["post"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        return {**schema, "components": converted["components"]}

    submitted = client.post(
        "/producer/audios", json={"action": "generate", "prompt": "x", "async": True}
    )
    task_id = submitted.json()["task_id"]
    for step in (0.0, 2.0, 10.0):
        clock.advance(step)
        record = client.post("/producer/tasks", json={"action": "retrieve", "id": task_id}).json()
        jsonschema.validate(record, record_schema)
    batch = client.post("/producer/tasks", json={"action": "retrieve_batch", "ids": [task_id]})
    jsonschema.validate(batch.json(), response_schema("/producer/tasks"))
    for path, body in (
        ("/producer/lyrics", {"prompt": "x"}),
        ("/producer/upload", {"audio_url": "https://cdn.test/a.mp3"}),
    ):
        jsonschema.validate(client.post(path, json=body).json(), response_schema(path))
    sync = client.post("/producer/audios", json={"action": "generate", "prompt": "x"}).json()
    song_schema = response_schema("/producer/audios")["properties"]["data"]["items"]
    checked = 0
    for name, value in sync["data"][0].items():
        if name in song_schema["properties"] and value is not None:  # video_url: null, as the
            jsonschema.validate(value, song_schema["properties"][name])  # vendor's example
            checked += 1
    assert checked >= 10
