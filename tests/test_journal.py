"""The journal of paid calls (``langchain_producer.journal``), in one process: keys, resume,
conflicts, store faults, listing and expiry, the ``before_submit`` hook, and where a tool finds
its tool call id, thread and store inside a LangGraph run."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command, interrupt
from test_agent import DONE, GENERATE, ScriptedModel

from langchain_producer import (
    Generate,
    ProducerClient,
    ProducerToolkit,
    ProducerValidationError,
)
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.errors import (
    JournalConflictError,
    JournalError,
    SubmissionUncertainError,
    TaskLostError,
)
from langchain_producer.safety import journal as journal_module
from langchain_producer.safety.journal import NAMESPACE, PaidRequest, TaskJournal

KEY = "journal-secret-key-123"
AUDIOS = "/producer/audios"


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def client_on(emu: ProducerEmulator, store: BaseStore | None = None) -> ProducerClient:
    return ProducerClient(
        api_key=KEY,
        transport=emu.transport,
        poll_interval=0.02,
        max_poll_interval=0.05,
        store=store,
    )


def paths(emu: ProducerEmulator) -> list[str]:
    return [request.url.path for request in emu.requests]


class BrokenStore(InMemoryStore):
    """An InMemoryStore whose reads or writes fail, as a store that is down would."""

    def __init__(self, *, fail_reads: bool = False, fail_writes: bool = False) -> None:
        super().__init__()
        self.fail_reads, self.fail_writes = fail_reads, fail_writes

    def _check(self, ops: Any) -> None:
        names = {type(op).__name__ for op in ops}
        if self.fail_reads and names & {"GetOp", "SearchOp"}:
            raise TimeoutError("store read timed out")
        if self.fail_writes and "PutOp" in names:
            raise ConnectionError("store is down")

    def batch(self, ops: Any) -> Any:
        ops = list(ops)
        self._check(ops)
        return super().batch(ops)

    async def abatch(self, ops: Any) -> Any:
        ops = list(ops)
        self._check(ops)
        return await super().abatch(ops)


# ---------------------------------------------------------------------------------------------
# Direct client use with key=.


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_same_key_is_submitted_once_and_resumed(
    emu: ProducerEmulator, store: InMemoryStore, mode: str
) -> None:
    client = client_on(emu, store)
    params = Generate(prompt="lo-fi")
    if mode == "sync":
        first = client.submit(params, key="album-1/track-3")
        again = client.submit(params, key="album-1/track-3", wait=True)
    else:
        first = await client.asubmit(params, key="album-1/track-3")
        again = await client.asubmit(params, key="album-1/track-3", wait=True)
    assert paths(emu).count(AUDIOS) == 1
    assert (first.resumed, again.resumed) == (False, True)
    assert again.task_id == first.task_id and again.is_complete
    assert again.submitted_at == first.submitted_at is not None
    [entry] = TaskJournal(store).list()
    assert (entry.key, entry.task_id, entry.action) == (
        "album-1/track-3",
        first.task_id,
        "generate",
    )
    assert entry.thread_id is None and entry.digest.startswith("sha256:")
    # Another key is another job.
    other = client.submit(params, key="album-1/track-4")
    assert other.task_id != first.task_id and paths(emu).count(AUDIOS) == 2


def test_a_recorded_finished_task_returns_at_once(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    client = client_on(emu, store)
    done = client.submit(Generate(prompt="x"), key="k", wait=True)
    assert done.is_complete
    before = len(emu.requests)
    again = client.submit(Generate(prompt="x"), key="k", wait=True)
    assert again.resumed and again.is_complete and again.task_id == done.task_id
    assert paths(emu)[before:] == ["/producer/tasks"], "one look-up, no submission, no waiting"


def test_same_key_other_arguments_names_both_requests(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    client = client_on(emu, store)
    first = client.submit(Generate(prompt="lo-fi beat"), key="k")
    with pytest.raises(JournalConflictError) as caught:
        client.submit(Generate(prompt="death metal"), key="k")
    message = str(caught.value)
    assert "lo-fi beat" in message and "death metal" in message and first.task_id in message
    assert "Nothing was submitted" in message
    assert paths(emu).count(AUDIOS) == 1


def test_paid_calls_answered_at_once_are_resumed_from_the_journal(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    client = client_on(emu, store)
    song = client.submit(Generate(prompt="x"), wait=True).songs[0]
    assert song.id
    made = [
        client.generate_lyrics("a song about rain", key="lyrics"),
        client.upload_audio("https://example.com/a.mp3", key="upload"),
        client.generate_video(song.id, key="video"),
        client.generate_wav(song.id, key="wav"),
    ]
    sent = len(emu.requests)
    again = [
        client.generate_lyrics("a song about rain", key="lyrics"),
        client.upload_audio("https://example.com/a.mp3", key="upload"),
        client.generate_video(song.id, key="video"),
        client.generate_wav(song.id, key="wav"),
    ]
    assert len(emu.requests) == sent, "a resumed call answered at once needs no request"
    for old, new in zip(made, again, strict=True):
        assert not old.resumed and new.resumed
        assert new.submitted_at == old.submitted_at
        assert new.model_dump(exclude={"resumed"}) == old.model_dump(exclude={"resumed"})
    actions = {entry.key: entry.action for entry in client.journal.list()}  # type: ignore[union-attr]
    assert actions == {"lyrics": "lyrics", "upload": "upload", "video": "video", "wav": "wav"}


async def test_async_paid_calls_answered_at_once_are_resumed(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    client = client_on(emu, store)
    first = await client.agenerate_lyrics("rain", key="l")
    again = await client.agenerate_lyrics("rain", key="l")
    assert again.resumed and again.text == first.text
    assert paths(emu).count("/producer/lyrics") == 1


def test_without_a_store_nothing_is_journalled_and_the_log_says_so(
    emu: ProducerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_on(emu)
    with caplog.at_level("WARNING", logger="langchain_producer"):
        first = client.submit(Generate(prompt="x"), key="album-1/track-3")
        second = client.submit(Generate(prompt="x"), key="album-1/track-3")
    assert first.task_id != second.task_id and not second.resumed
    assert client.journal is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("'album-1/track-3' is not journalled" in w for w in warnings)


def test_a_blank_key_is_refused_before_anything_is_sent(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    with pytest.raises(ProducerValidationError, match="key must be a non-empty string"):
        client_on(emu, store).submit(Generate(prompt="x"), key="  ")
    assert emu.requests == []


# ---------------------------------------------------------------------------------------------
# Faults: a store that fails, a task the service forgot, secrets.


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_store_read_failure_refuses_to_submit(emu: ProducerEmulator, mode: str) -> None:
    client = client_on(emu, BrokenStore(fail_reads=True))
    with pytest.raises(JournalError) as caught:
        if mode == "sync":
            client.submit(Generate(prompt="x"), key="k")
        else:
            await client.asubmit(Generate(prompt="x"), key="k")
    assert "TimeoutError" in str(caught.value) and "paid twice" in str(caught.value)
    assert caught.value.hint.startswith("Nothing was sent")
    assert emu.requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_store_write_failure_still_returns_the_task_id(
    emu: ProducerEmulator, mode: str
) -> None:
    client = client_on(emu, BrokenStore(fail_writes=True))
    if mode == "sync":
        task = client.submit(Generate(prompt="x"), key="k", wait=True)
    else:
        task = await client.asubmit(Generate(prompt="x"), key="k", wait=True)
    assert task.is_complete and task.task_id in emu.tasks
    assert task.journal_warning is not None
    assert task.task_id in task.journal_warning and "ConnectionError" in task.journal_warning
    assert "producer_get_task" in task.journal_warning
    assert paths(emu).count(AUDIOS) == 1


def test_store_write_failure_reaches_the_model_with_the_task_id(emu: ProducerEmulator) -> None:
    toolkit = ProducerToolkit(
        api_key=KEY,
        transport=emu.transport,
        poll_interval=0.02,
        store=BrokenStore(fail_writes=True),
    )
    [tool] = toolkit.get_tools(["producer_generate_music"])
    call = {"name": tool.name, "args": {"prompt": "x"}, "id": "c1", "type": "tool_call"}
    message = tool.invoke(call, {"configurable": {"thread_id": "t"}})
    content = json.loads(message.content)
    assert message.status != "error" and content["state"] == "complete"
    assert content["task_id"] in content["journal_warning"]
    assert paths(emu).count(AUDIOS) == 1


def test_store_read_failure_reaches_the_model_as_an_error(emu: ProducerEmulator) -> None:
    toolkit = ProducerToolkit(
        api_key=KEY, transport=emu.transport, store=BrokenStore(fail_reads=True)
    )
    [tool] = toolkit.get_tools(["producer_generate_lyrics"])
    call = {"name": tool.name, "args": {"prompt": "x"}, "id": "c1", "type": "tool_call"}
    message = tool.invoke(call, {"configurable": {"thread_id": "t"}})
    assert message.status == "error"
    content = json.loads(message.content)
    assert content["error"] == "journal_unavailable" and "Nothing was sent" in content["next_step"]
    assert emu.requests == []


@pytest.mark.parametrize("wait", [True, False])
def test_a_task_the_service_forgot_is_reported_not_resubmitted(
    store: InMemoryStore, wait: bool
) -> None:
    before = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)
    first = client_on(before, store).submit(Generate(prompt="x"), key="k")
    after = ProducerEmulator()  # the service lost every task (a new emulator knows none)
    with pytest.raises(TaskLostError) as caught:
        client_on(after, store).submit(Generate(prompt="x"), key="k", wait=wait)
    assert caught.value.task_id == first.task_id
    assert "no longer knows" in str(caught.value) and "not submitted again" in str(caught.value)
    assert paths(after) == ["/producer/tasks"]


def test_journal_and_errors_never_hold_the_api_key(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    client = client_on(emu, store)
    client.submit(Generate(prompt="x"), key="k", wait=True)
    client.generate_lyrics("rain", key="l")
    stored = json.dumps([item.dict() for item in store.search(NAMESPACE, limit=100)], default=str)
    assert stored.count('"task_id"') >= 2
    assert KEY not in stored
    with pytest.raises(JournalConflictError) as caught:
        client.submit(Generate(prompt="y"), key="k")
    assert KEY not in str(caught.value) and KEY not in repr(client.journal)


# ---------------------------------------------------------------------------------------------
# Listing, namespaces, expiry.


def test_entries_are_namespaced_by_thread_listable_and_prunable(
    emu: ProducerEmulator, store: InMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = TaskJournal(store)
    client = client_on(emu, store)
    old_clock = dataclasses.replace(client._driver.clock, time=lambda: 1_577_836_800.0)
    monkeypatch.setattr(client._driver, "clock", old_clock)  # 2020-01-01T00:00:00+00:00
    client.submit(Generate(prompt="old"), key="old")
    monkeypatch.undo()
    client.submit(Generate(prompt="new"), key="new")
    assert [e.key for e in journal.list()] == ["old", "new"]
    assert journal.namespace("v1.thread") == ("langchain_producer", "tasks", "v1%2Ethread")
    assert store.search(("langchain_producer", "tasks", "no_thread"), limit=10)
    assert journal.prune(older_than=timedelta(days=7)) == 1
    assert [e.key for e in journal.list(all_threads=True)] == ["new"]
    journal.delete("new")
    assert journal.list() == []


class TTLStore(InMemoryStore):
    """Records the ttl of every write, as a store with TTL support would receive it."""

    supports_ttl = True

    def __init__(self) -> None:
        super().__init__()
        self.ttls: list[Any] = []

    def batch(self, ops: Any) -> Any:
        ops = list(ops)
        self.ttls += [op.ttl for op in ops if type(op).__name__ == "PutOp"]
        return super().batch(ops)


def test_entries_expire_through_the_store_ttl(emu: ProducerEmulator) -> None:
    ttl_store = TTLStore()
    client_on(emu, ttl_store).submit(Generate(prompt="x"), key="k")
    assert ttl_store.ttls == [journal_module.DEFAULT_TTL_MINUTES]
    plain = InMemoryStore()  # no TTL support: the entry is written without one
    client_on(emu, plain).submit(Generate(prompt="x"), key="k")
    assert len(TaskJournal(plain).list()) == 1


# ---------------------------------------------------------------------------------------------
# before_submit and its settle callable.


def test_before_submit_sees_the_request_once_and_never_on_resume(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    seen: list[PaidRequest] = []
    settled: list[Any] = []

    def hook(request: PaidRequest) -> Any:
        seen.append(request)
        return settled.append

    client = client_on(emu, store)
    client.submit(Generate(prompt="lo-fi", instrumental=True), key="k", before_submit=hook)
    client.submit(Generate(prompt="lo-fi", instrumental=True), key="k", before_submit=hook)
    [request] = seen
    assert (request.action, request.endpoint, request.key, request.tool) == (
        "generate",
        AUDIOS,
        "k",
        None,
    )
    assert request.arguments == {"prompt": "lo-fi", "instrumental": True}
    with pytest.raises(TypeError):
        request.arguments["prompt"] = "changed"  # type: ignore[index]
    assert KEY not in repr(request)
    assert settled == [None]


def test_before_submit_raising_aborts_with_nothing_sent(emu: ProducerEmulator) -> None:
    class Refused(Exception):
        pass

    def hook(request: PaidRequest) -> None:
        raise Refused("over budget")

    with pytest.raises(Refused, match="over budget"):
        client_on(emu).generate_lyrics("x", before_submit=hook)
    assert emu.requests == []


def test_settle_hears_a_failed_submission(emu: ProducerEmulator) -> None:
    settled: list[Any] = []
    emu.fail_next("server_error", times=5)
    with pytest.raises(SubmissionUncertainError):
        client_on(emu).submit(Generate(prompt="x"), before_submit=lambda r: settled.append)
    [error] = settled
    assert isinstance(error, SubmissionUncertainError)


async def test_async_before_submit_is_awaited_and_refused_in_sync_calls(
    emu: ProducerEmulator,
) -> None:
    seen: list[str] = []

    async def hook(request: PaidRequest) -> None:
        seen.append(request.action)

    client = client_on(emu)
    await client.agenerate_lyrics("x", before_submit=hook)
    assert seen == ["lyrics"]
    with pytest.raises(ProducerValidationError, match="awaitable"):
        client.generate_lyrics("x", before_submit=hook)
    assert paths(emu).count("/producer/lyrics") == 1


# ---------------------------------------------------------------------------------------------
# Inside LangGraph: the tool call id, the thread and the graph's own store.


def agent_on(emu: ProducerEmulator, graph_store: BaseStore | None, **toolkit_settings: Any) -> Any:
    toolkit = ProducerToolkit(
        api_key=KEY, transport=emu.transport, poll_interval=0.02, **toolkit_settings
    )
    # Fresh messages each turn: a reused message keeps the id it got, and would replace the
    # earlier one in the thread instead of following it.
    script = [m.model_copy(update={"id": None}) for m in (GENERATE, DONE, GENERATE, DONE)]
    model = ScriptedModel(script=script)
    tools = toolkit.get_tools()
    return create_agent(model, tools, checkpointer=InMemorySaver(), store=graph_store)


def ask() -> dict[str, Any]:
    return {"messages": [HumanMessage("Make me a lo-fi beat.")]}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_tool_in_a_graph_journals_under_thread_and_tool_call_id(
    emu: ProducerEmulator, store: InMemoryStore, mode: str
) -> None:
    agent = agent_on(emu, store)
    config = {"configurable": {"thread_id": "thread.1"}}
    result = agent.invoke(ask(), config) if mode == "sync" else await agent.ainvoke(ask(), config)
    [message] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    [entry] = TaskJournal(store).list("thread.1")
    assert (entry.key, entry.thread_id, entry.tool) == (
        "call-gen",
        "thread.1",
        "producer_generate_music",
    )
    assert entry.task_id == json.loads(message.content)["task_id"]
    assert entry.arguments == {"prompt": "lo-fi beat for studying", "instrumental": False}


def test_the_toolkit_store_is_used_when_the_graph_has_none(emu: ProducerEmulator) -> None:
    mine = InMemoryStore()
    agent = agent_on(emu, None, store=mine)
    agent.invoke(ask(), {"configurable": {"thread_id": "t"}})
    assert [e.key for e in TaskJournal(mine).list("t")] == ["call-gen"]


def test_a_repeated_tool_call_in_a_thread_resumes_instead_of_paying(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    # The same tool call id again in the same thread is what a resumed graph re-runs.
    agent = agent_on(emu, store)
    config = {"configurable": {"thread_id": "t"}}
    agent.invoke(ask(), config)
    result = agent.invoke(ask(), config)
    last = [m for m in result["messages"] if isinstance(m, ToolMessage)][-1]
    content = json.loads(last.content)
    assert content["resumed"] is True and content["submitted_at"]
    assert content["state"] == "complete"
    assert paths(emu).count(AUDIOS) == 1


def test_without_a_thread_tool_calls_are_not_journalled(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    toolkit = ProducerToolkit(api_key=KEY, transport=emu.transport, poll_interval=0.02)
    model = ScriptedModel(script=[GENERATE, DONE])
    create_agent(model, toolkit.get_tools(), store=store).invoke(ask())
    assert TaskJournal(store).list(all_threads=True) == []


def test_interrupt_in_before_submit_pauses_then_submits_once(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    approvals: list[Any] = []

    def approve(request: PaidRequest) -> None:
        approvals.append(interrupt({"approve": request.action, "tool": request.tool}))

    toolkit = ProducerToolkit(api_key=KEY, transport=emu.transport, poll_interval=0.02)
    tools = toolkit.get_tools(["producer_generate_music"])
    for tool in tools:
        tool.before_submit = approve  # type: ignore[attr-defined]
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, tools, checkpointer=InMemorySaver(), store=store)
    config = {"configurable": {"thread_id": "t"}}
    paused = agent.invoke(ask(), config)
    [pending] = paused["__interrupt__"]
    assert pending.value == {"approve": "generate", "tool": "producer_generate_music"}
    assert AUDIOS not in paths(emu)
    result = agent.invoke(Command(resume="yes"), config)
    assert approvals == ["yes"]
    [message] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert json.loads(message.content)["state"] == "complete"
    assert paths(emu).count(AUDIOS) == 1


def test_a_resumed_call_is_neither_billed_nor_counted_by_the_spending_limit(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    toolkit = ProducerToolkit(
        api_key=KEY, transport=emu.transport, poll_interval=0.02, store=store, max_paid_calls=1
    )
    [tool] = toolkit.get_tools(["producer_generate_music"])
    config = {"configurable": {"thread_id": "t"}}

    def call(call_id: str) -> dict[str, Any]:
        message = tool.invoke(
            {"name": tool.name, "args": {"prompt": "x"}, "id": call_id, "type": "tool_call"},
            config,
        )
        return dict(json.loads(message.content))

    first, again, other = call("c1"), call("c1"), call("c2")
    assert first["billed"] is True and "resumed" not in first
    assert again["billed"] is False and again["resumed"] is True
    assert again["task_id"] == first["task_id"]
    assert other["error"] == "spending_limit_reached", "the limit of one was used by c1 alone"
    assert toolkit.spending().paid_calls == 1 and paths(emu).count(AUDIOS) == 1


async def test_a_sync_only_store_serves_async_calls(emu: ProducerEmulator, tmp_path: Any) -> None:
    # SqliteStore has no async methods (they raise NotImplementedError): the journal runs its
    # sync ones in a worker thread instead of failing the paid call.
    from langgraph.store.sqlite import SqliteStore

    with SqliteStore.from_conn_string(str(tmp_path / "store.db")) as sqlite:
        sqlite.setup()
        client = client_on(emu, sqlite)
        first = await client.asubmit(Generate(prompt="x"), key="k")
        again = await client.asubmit(Generate(prompt="x"), key="k")
        assert again.resumed and again.task_id == first.task_id
        assert [entry.key for entry in TaskJournal(sqlite).list()] == ["k"]
    assert paths(emu).count(AUDIOS) == 1
