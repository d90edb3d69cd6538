"""LangChain 1.x agent middleware together with the toolkit: what each limit counts, and that no
middleware makes a paid call twice.

* ``ToolRetryMiddleware`` around the paid tools, for every fault of ``faultserver``: at most one
  paid submission per tool call (more only after a 429, as in the fault matrix), and the run
  ends with a ``ToolMessage``. Also with a malformed approval answer.
* ``ToolCallLimitMiddleware`` next to ``max_paid_calls``: the middleware counts the calls a model
  *proposes* (free and paid, and ones our limit then refuses); the toolkit counts the paid
  submissions that were accepted (or may have been).
* A stateless cron (a new process and a new thread every run): ``max_paid_calls_per_thread``
  cannot bound it; ``max_paid_calls`` with a shared store can.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

import pytest
from faultserver import FAULTS, FaultServer
from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    ToolCallLimitMiddleware,
    ToolRetryMiddleware,
)
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ToolException
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command
from packaging.version import Version
from test_agent import ScriptedModel
from test_fault_matrix import MAX_RETRIES, OPERATIONS, Operation, check_cell, serve_fault
from test_fault_matrix import make_toolkit as make_fault_toolkit
from test_spending import make_toolkit

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.safety.approval import APPROVAL_REQUEST
from langchain_producer.safety.spending import NAMESPACE

AUDIOS = "/producer/audios"


LANGCHAIN = Version(metadata.version("langchain"))
needs_langchain_1_4 = pytest.mark.skipif(
    Version("1.4") > LANGCHAIN,
    reason=(
        f"langchain {LANGCHAIN}: before 1.4, ToolRetryMiddleware catches LangGraph's own "
        "signals (GraphInterrupt) as failures, so an approval pause inside it never reaches the "
        "person, and retry_on is applied to them: use langchain >= 1.4 with ToolRetryMiddleware "
        "and approve_paid_calls (README)"
    ),
)
ASK: Any = {"messages": [HumanMessage("Make me a song about rain.")]}

PAID_OPERATIONS = ["paid_nowait", "paid_wait", "paid_wait_failing_lookups", "lyrics", "wav"]
"""The fault matrix's operations that submit a paid job."""


def retry() -> ToolRetryMiddleware:
    """What the issue asks about: three retries, on any exception (the default ``retry_on``)."""
    return ToolRetryMiddleware(max_retries=3, initial_delay=0, jitter=False)


class Attempts(AgentMiddleware):
    """Placed inside ``ToolRetryMiddleware``: sees every attempt it makes, and what came back.

    ``outcomes`` holds, per attempt, ``"raised"`` or the returned ToolMessage's status."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[str] = []

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            result = handler(request)
        except Exception:
            self.outcomes.append("raised")
            raise
        self.outcomes.append(getattr(result, "status", "command"))
        return result

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        try:
            result = await handler(request)
        except Exception:
            self.outcomes.append("raised")
            raise
        self.outcomes.append(getattr(result, "status", "command"))
        return result


def tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def submissions(emu: ProducerEmulator) -> int:
    return sum(request.url.path == AUDIOS for request in emu.requests)


def turn(*calls: dict[str, Any]) -> AIMessage:
    return AIMessage("", tool_calls=list(calls))


def song(prompt: str, call_id: str) -> dict[str, Any]:
    return {"name": "producer_generate_music", "args": {"prompt": prompt}, "id": call_id}


def models(call_id: str) -> dict[str, Any]:
    return {"name": "producer_list_models", "args": {}, "id": call_id}


async def run(agent: Any, value: Any, mode: str, config: Any = None) -> dict[str, Any]:
    if mode == "sync":
        return agent.invoke(value, config)  # type: ignore[no-any-return]
    return await agent.ainvoke(value, config)  # type: ignore[no-any-return]


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.02, processing_seconds=0.05)


# ---------------------------------------------------------------------------------------------
# ToolRetryMiddleware around paid tools, on every fault of a hostile service.
#
# Why it cannot pay twice: ToolRetryMiddleware retries only when the tool *raises* (its
# ``wrap_tool_call`` calls the handler again in ``except Exception``; a returned ToolMessage,
# even with status="error", is returned as is). Our tools never raise for a failed call: every
# failure becomes a ``ToolException`` carrying the error JSON, and the tools' own
# ``handle_tool_error=True`` turns that into an error ToolMessage inside ``BaseTool.run``, before
# LangGraph's ToolNode (the middleware's handler) returns. So the middleware sees no exception
# and makes no second attempt; ``Attempts`` (inside it) proves there was exactly one. What does
# pass through as an exception is LangGraph's own: an ``interrupt()`` (GraphBubbleUp, which the
# middleware re-raises untouched) and a malformed approval answer (see further down).


async def run_fault_cell(
    fault: str, op: Operation, mode: str, evil: FaultServer, **tool_settings: Any
) -> tuple[ToolMessage, FaultServer, Attempts, ProducerToolkit]:
    server, base_url = serve_fault(fault, op, evil)
    toolkit, clients = make_fault_toolkit(base_url, op)
    tools = toolkit.get_tools()
    for tool in tools:
        for name, value in tool_settings.items():
            setattr(tool, name, value)
    attempts = Attempts()
    call = {"name": op.tool, "args": dict(op.args), "id": "call-1"}
    agent = create_agent(
        ScriptedModel(script=[turn(call), AIMessage("Done.")]),
        tools,
        middleware=[retry(), attempts],
    )
    try:
        result = await run(agent, ASK, mode)  # no exception escapes
    finally:
        server.close()
        clients[0].close()
        await clients[1].aclose()
    (message,) = tool_messages(result)
    assert result["messages"][-1].content == "Done.", "the model got its turn after the tool"
    return message, server, attempts, toolkit


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_name", PAID_OPERATIONS)
@pytest.mark.parametrize("fault", FAULTS)
async def test_retry_middleware_never_sends_a_paid_call_twice(
    fault: str, op_name: str, mode: str, evil: FaultServer
) -> None:
    op = OPERATIONS[op_name]
    message, server, attempts, _ = await run_fault_cell(fault, op, mode, evil)
    # The fault matrix's own checks of the one message: a ToolMessage, the paid request at most
    # once (twice after a 429: the client's own retry, MAX_RETRIES=1, of a call that did no
    # work), every delivered task id shown, advice that fits, no key.
    check_cell(fault, op, message, server, evil)
    assert attempts.outcomes == [message.status], "the middleware made exactly one attempt"
    assert not str(message.content).startswith("Tool '"), "not the middleware's failure message"


async def test_retry_middleware_after_a_429_adds_nothing_to_the_clients_own_retry(
    evil: FaultServer,
) -> None:
    """A 429 did no work: the client retries it itself (``max_retries``), the middleware not."""
    op = OPERATIONS["paid_nowait"]
    message, server, attempts, _ = await run_fault_cell("429_bare", op, "sync", evil)
    assert server.count(AUDIOS) == 1 + MAX_RETRIES
    assert json.loads(str(message.content))["error"] == "too_many_requests"
    assert attempts.outcomes == ["error"]


# The one configuration where ToolRetryMiddleware does retry: a user switches our tools'
# ``handle_tool_error`` off. The ToolException then reaches ToolNode, whose default handler
# (``_default_handle_tool_errors``) re-raises everything but argument errors, the middleware's
# default ``retry_on`` accepts any exception, and it calls the tool again. After an uncertain
# submission (a 500, a reset, a timeout: the job may be running) that is a second paid
# submission, and a third and a fourth: the journal records only acceptances, so it has nothing
# to resume from. Measured: 4 submissions for one tool call.

UNCERTAIN_FAULTS = ["500", "reset", "read_timeout", "502_html"]


@pytest.mark.parametrize("fault", UNCERTAIN_FAULTS)
async def test_retry_with_handle_tool_error_off_still_sends_once(
    fault: str, evil: FaultServer
) -> None:
    _, server, attempts, _ = await run_fault_cell(
        fault, OPERATIONS["paid_nowait"], "sync", evil, handle_tool_error=False
    )
    # With handle_tool_error=False the middleware does retry (4 attempts); the toolkit
    # remembers that this tool call id already sent its paid request, so attempts 2-4 are
    # refused before anything is sent (it once made 4 submissions here).
    assert attempts.outcomes == ["raised"] * 4, "precondition: the middleware did retry"
    assert server.count(AUDIOS) == 1


async def test_retry_after_acceptance_with_handle_tool_error_off_follows_the_task(
    evil: FaultServer,
) -> None:
    # Accepted, then every look-up fails: the tool raises (handle_tool_error=False) and the
    # middleware retries. The retries name the accepted task and send nothing.
    message, server, attempts, _ = await run_fault_cell(
        "500", OPERATIONS["paid_wait_failing_lookups"], "sync", evil, handle_tool_error=False
    )
    assert attempts.outcomes == ["raised"] * 4
    assert server.count(AUDIOS) == 1
    assert "already accepted as task" in message.content and "producer_get_task" in message.content


@pytest.mark.parametrize(
    "guard", ["max_paid_calls", pytest.param("retry_on", marks=needs_langchain_1_4)]
)
async def test_with_handle_tool_error_off_a_limit_or_retry_on_keeps_it_to_one(
    guard: str, evil: FaultServer
) -> None:
    """What bounds it in that configuration: our limit (an uncertain call counts), or a
    ``retry_on`` that leaves our ToolException alone."""
    op = OPERATIONS["paid_nowait"]
    server = FaultServer(fault="500", faulty=(op.faulty,))
    settings = {"max_paid_calls": 1} if guard == "max_paid_calls" else {}
    toolkit, clients = make_fault_toolkit(server.base_url, op, **settings)
    tools = toolkit.get_tools()
    for tool in tools:
        tool.handle_tool_error = False
    middleware = (
        retry()
        if guard == "max_paid_calls"
        else ToolRetryMiddleware(
            max_retries=3,
            initial_delay=0,
            retry_on=lambda error: not isinstance(error, ToolException),
        )
    )
    agent = create_agent(
        ScriptedModel(script=[turn(song("rain", "call-1")), AIMessage("Done.")]),
        tools,
        middleware=[middleware],
    )
    try:
        if guard == "max_paid_calls":
            (message,) = tool_messages(agent.invoke(ASK))
            # Retries 2-4 were refused before anything was sent: this tool call already sent
            # its request (and it would have counted against the limit anyway).
            assert "is not sent again" in message.content
            assert toolkit.spending().paid_calls == 1
        else:
            with pytest.raises(ToolException, match="submission_uncertain"):
                agent.invoke(ASK)  # handle_tool_error=False: the user asked for the raise
    finally:
        server.close()
        clients[0].close()
    assert server.count(AUDIOS) == 1


# ---------------------------------------------------------------------------------------------
# ToolRetryMiddleware and approve_paid_calls=True: a malformed answer, then a valid one.
#
# Without the middleware, LangGraph fails a resume that does not fit the question's schema
# (test_approval.py). With it, the ValidationError is an ordinary exception to the middleware:
# it calls the tool again, whose interrupt() then has no answer for its (second) question and
# pauses the graph again, asking the same question. So the malformed answer does not raise; the
# run returns the open question once more. Nothing is sent until a valid answer.


def retrying_agent_asking_first(emu: ProducerEmulator, middleware: Any) -> Any:
    toolkit = make_toolkit(emu, approve_paid_calls=True)
    model = ScriptedModel(script=[turn(song("rain", "call-1")), AIMessage("Done.")])
    return create_agent(
        model, toolkit.get_tools(), middleware=[middleware], checkpointer=InMemorySaver()
    )


@needs_langchain_1_4
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "answer", [True, "yes", {"type": "maybe"}, {"type": "approve", "args": {}}]
)
async def test_a_malformed_approval_under_retry_asks_again_and_pays_once(
    emu: ProducerEmulator, answer: Any, mode: str
) -> None:
    thread: RunnableConfig = {"configurable": {"thread_id": f"t-{mode}"}}
    agent = retrying_agent_asking_first(emu, retry())
    paused = await run(agent, ASK, mode, thread)
    (first,) = paused["__interrupt__"]
    for _ in range(5):  # more malformed answers than the middleware has retries
        again = await run(agent, Command(resume=answer), mode, thread)
        (question,) = again["__interrupt__"]
        assert question.value == first.value, "the same question, still open"
        assert tool_messages(again) == []
        assert submissions(emu) == 0
    (still,) = agent.get_state(thread).interrupts
    assert still.value["type"] == APPROVAL_REQUEST
    done = await run(agent, Command(resume={"type": "approve"}), mode, thread)
    (message,) = tool_messages(done)
    assert json.loads(str(message.content))["state"] == "complete"
    assert submissions(emu) == 1, "exactly one paid submission in total"
    assert done["messages"][-1].content == "Done."


@needs_langchain_1_4
def test_a_malformed_approval_with_no_retries_left_closes_the_question(
    emu: ProducerEmulator,
) -> None:
    """``max_retries=0``: the middleware turns the resume's ValidationError into its own error
    ToolMessage ("Please try again"): the question is gone, nothing was sent, and the model may
    propose the call again, which asks again (a new tool call, a new question)."""
    thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
    agent = retrying_agent_asking_first(emu, ToolRetryMiddleware(max_retries=0, initial_delay=0))
    agent.invoke(ASK, thread)
    done = agent.invoke(Command(resume="yes"), thread)
    assert "__interrupt__" not in done
    (message,) = tool_messages(done)
    assert message.status == "error"
    assert str(message.content).startswith("Tool 'producer_generate_music' failed after 1 attempt")
    assert "ValidationError" in message.content
    assert submissions(emu) == 0
    assert agent.get_state(thread).interrupts == ()


# ---------------------------------------------------------------------------------------------
# ToolCallLimitMiddleware next to max_paid_calls: what each counts.


def test_the_middleware_counts_proposed_calls_the_toolkit_counts_paid_submissions(
    emu: ProducerEmulator,
) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=2, wait=False)
    limiter = ToolCallLimitMiddleware(run_limit=4)  # all tools, per run
    script = [
        # 3 paid + 1 free: the middleware lets all 4 through; our limit refuses the third song.
        turn(song("a", "s1"), song("b", "s2"), models("m1"), song("c", "s3")),
        # The 5th proposed call, a free one: the middleware blocks it (it never runs).
        turn(models("m2")),
        AIMessage("Done."),
    ]
    thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
    agent = create_agent(
        ScriptedModel(script=script),
        toolkit.get_tools(),
        middleware=[limiter],
        checkpointer=InMemorySaver(),
    )
    result = agent.invoke(ASK, thread)
    by_id = {m.tool_call_id: m for m in tool_messages(result)}
    assert len(by_id) == 5, "every proposed call got an answer"

    songs = [by_id[i] for i in ("s1", "s2", "s3")]
    ours = [m for m in songs if m.status == "error"]
    (refused,) = ours  # which of the three: they ran side by side
    assert json.loads(str(refused.content))["error"] == "spending_limit_reached"
    assert by_id["m1"].status != "error"
    assert by_id["m2"].status == "error"
    assert by_id["m2"].content == "Tool call limit exceeded. Do not make additional tool calls."

    # What each counts, as each reports it:
    assert toolkit.spending().paid_calls == 2, "ours: accepted paid submissions"
    assert submissions(emu) == 2, "the service: the same two"
    state = agent.get_state(thread).values
    assert state["thread_tool_call_count"] == {"__all__": 4}, (
        "the middleware: the 4 calls it let run, free and paid, including the song we refused"
    )
    middleware_refusals = [
        m for m in by_id.values() if str(m.content).startswith("Tool call limit")
    ]
    assert len(middleware_refusals) == 1
    assert result["messages"][-1].content == "Done."


def test_a_call_the_middleware_blocks_never_reaches_our_limit(emu: ProducerEmulator) -> None:
    """Scoped to the song tool: the middleware counts the song our limit refused as a call, so
    it blocks the next one; that blocked call never ran, and our count stays at 2."""
    toolkit = make_toolkit(emu, max_paid_calls=2, wait=False)
    limiter = ToolCallLimitMiddleware(tool_name="producer_generate_music", thread_limit=3)
    script = [
        turn(song("a", "s1"), song("b", "s2"), song("c", "s3"), models("m1")),
        turn(song("d", "s4")),
        AIMessage("Done."),
    ]
    thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
    agent = create_agent(
        ScriptedModel(script=script),
        toolkit.get_tools(),
        middleware=[limiter],
        checkpointer=InMemorySaver(),
    )
    result = agent.invoke(ASK, thread)
    by_id = {m.tool_call_id: m for m in tool_messages(result)}
    errors = {
        i: json.loads(str(by_id[i].content))["error"]
        for i in ("s1", "s2", "s3")
        if by_id[i].status == "error"
    }
    assert list(errors.values()) == ["spending_limit_reached"]
    assert by_id["s4"].content == (
        "Tool call limit exceeded. Do not call 'producer_generate_music' again."
    )
    assert by_id["m1"].status != "error", "a free tool is not the middleware's concern here"
    assert agent.get_state(thread).values["thread_tool_call_count"] == {
        "producer_generate_music": 3
    }
    assert toolkit.spending().paid_calls == 2 and submissions(emu) == 2


# ---------------------------------------------------------------------------------------------
# A stateless cron: every run is a new process (a new toolkit) on a new thread.


def cron(emu: ProducerEmulator, runs: int, store: Any, thread: bool, **settings: Any) -> list[str]:
    """``runs`` runs of a daily job, each a new toolkit (a new process) asking for one song.
    Returns each run's outcome: "submitted" or our error code."""
    outcomes = []
    for n in range(runs):
        toolkit = make_toolkit(emu, wait=False, **settings)
        agent = create_agent(
            ScriptedModel(script=[turn(song(f"day {n}", "call-1")), AIMessage("Done.")]),
            toolkit.get_tools(),
            store=store,
            checkpointer=InMemorySaver() if thread else None,
        )
        config: RunnableConfig | None = (
            {"configurable": {"thread_id": f"cron-{n}"}} if thread else None
        )
        (message,) = tool_messages(agent.invoke(ASK, config))
        content = json.loads(str(message.content))
        outcomes.append(content["error"] if message.status == "error" else "submitted")
    return outcomes


@pytest.mark.parametrize("thread", [True, False], ids=["new-thread-each-run", "no-thread"])
def test_a_per_thread_cap_does_not_bound_a_cron_on_new_threads(
    emu: ProducerEmulator, thread: bool
) -> None:
    outcomes = cron(emu, 4, store=None, thread=thread, max_paid_calls_per_thread=1)
    assert outcomes == ["submitted"] * 4
    assert submissions(emu) == 4


def test_a_per_thread_cap_on_a_store_still_lets_every_new_thread_through(
    emu: ProducerEmulator,
) -> None:
    outcomes = cron(emu, 4, store=InMemoryStore(), thread=True, max_paid_calls_per_thread=1)
    assert outcomes == ["submitted"] * 4
    assert submissions(emu) == 4


def test_a_toolkit_cap_without_a_store_resets_with_every_process(emu: ProducerEmulator) -> None:
    assert cron(emu, 4, store=None, thread=True, max_paid_calls=2) == ["submitted"] * 4
    assert submissions(emu) == 4


@pytest.mark.parametrize("thread", [True, False], ids=["new-thread-each-run", "no-thread"])
def test_a_toolkit_cap_on_a_shared_store_bounds_the_cron(
    emu: ProducerEmulator, thread: bool
) -> None:
    store = InMemoryStore()
    outcomes = cron(emu, 4, store=store, thread=thread, max_paid_calls=2)
    assert outcomes == ["submitted"] * 2 + ["spending_limit_reached"] * 2
    assert submissions(emu) == 2
    tickets = store.search((*NAMESPACE, "toolkit"), limit=100)
    assert len(tickets) == 2, "the count lives in the store, one ticket per accepted call"


def test_without_threads_the_per_thread_cap_is_one_shared_count(emu: ProducerEmulator) -> None:
    """Calls outside any thread share one per-thread count ("no_thread"): on a shared store a
    thread-less cron is capped at 1 in all, by accident rather than by design."""
    outcomes = cron(emu, 3, store=InMemoryStore(), thread=False, max_paid_calls_per_thread=1)
    assert outcomes == ["submitted", "spending_limit_reached", "spending_limit_reached"]
    assert submissions(emu) == 1
