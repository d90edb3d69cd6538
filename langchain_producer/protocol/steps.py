"""The plan protocol: what a plan asks its driver to do, and what it gets back.

A *plan* is a generator that yields steps and receives their outcomes; it does no I/O, reads no
clock and draws no random number itself, so it is a pure function of what it is told. The
drivers (``_driver``) answer each step, synchronously or on an event loop, matching every step
type exhaustively. Plans ask through the small typed helpers below (``yield from now()``), so
each answer has its type.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from langchain_producer.models import ProducerTask
from langchain_producer.protocol.answers import Reply

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Send:
    """POST ``body`` to ``path``. Answer: the ``Reply`` that came back (raw, never following a
    redirect) or the exception that stopped the exchange."""

    path: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause for ``seconds``. Answer: None."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Await:
    """Wait up to ``seconds`` for ``task_id``'s callback, as the webhook receiver confirmed and
    recorded it in ``store`` (the deployment's ``BaseStore``). Answer: that terminal
    ``ProducerTask`` as soon as it is there (at once if it already is), else None.

    What a wait yields instead of ``Sleep`` while the service is to call back
    (``polling.wait``); the drivers read the store and wake when the receiver says so."""

    task_id: str
    seconds: float
    store: Any = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Now:
    """Answer: the driver's monotonic clock, in seconds."""


@dataclass(frozen=True, slots=True)
class WallClock:
    """Answer: the driver's wall clock, in seconds since the epoch (for HTTP dates)."""


@dataclass(frozen=True, slots=True)
class Draw:
    """Answer: a random float in [0, 1) from the driver (for back-off jitter)."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """Answer: the task's current ``ProducerTask`` (the driver may batch look-ups), or a
    ``ProducerError`` thrown into the plan."""

    task_id: str


@dataclass(frozen=True, slots=True)
class Progress:
    """Tell whoever watches that a task was seen in this state. Answer: None."""

    task: ProducerTask


class Effect(Generic[R]):
    """A step the driver performs by calling it: ``run()`` when it drives the plan
    synchronously, ``await arun()`` when asynchronously. Answer: what it returns (an ``R``).

    Lets work outside the wire protocol (the journal of paid calls, ``before_submit`` hooks)
    join a plan without the drivers knowing about it. Exceptions propagate out of the driver.
    """

    def run(self) -> R:  # pragma: no cover - abstract
        raise NotImplementedError

    async def arun(self) -> R:  # pragma: no cover - abstract
        raise NotImplementedError


Step = Send | Sleep | Await | Now | WallClock | Draw | Lookup | Progress | Effect[Any]
Outcome = object
"""What a driver answers: a ``Reply`` or an exception (``Send``), a float (``Now``,
``WallClock``, ``Draw``), a ``ProducerTask`` (``Lookup``; ``Await``, or None), an effect's
result, or None. Plans read it through the typed helpers below, which check it."""
Plan = Generator[Step, Outcome, T]


def send(path: str, body: dict[str, Any]) -> Plan[Reply | Exception]:
    outcome = yield Send(path, body)
    assert isinstance(outcome, Reply | Exception), outcome
    return outcome


def sleep(seconds: float) -> Plan[None]:
    yield Sleep(seconds)


def await_callback(task_id: str, seconds: float, store: Any) -> Plan[ProducerTask | None]:
    outcome = yield Await(task_id, seconds, store)
    assert outcome is None or isinstance(outcome, ProducerTask), outcome
    return outcome


def now() -> Plan[float]:
    outcome = yield Now()
    assert isinstance(outcome, float | int), outcome
    return float(outcome)


def wall_clock() -> Plan[float]:
    outcome = yield WallClock()
    assert isinstance(outcome, float | int), outcome
    return float(outcome)


def draw() -> Plan[float]:
    outcome = yield Draw()
    assert isinstance(outcome, float | int), outcome
    return float(outcome)


def lookup(task_id: str) -> Plan[ProducerTask]:
    outcome = yield Lookup(task_id)
    assert isinstance(outcome, ProducerTask), outcome
    return outcome


def progress(task: ProducerTask) -> Plan[None]:
    yield Progress(task)


def effect(step: Effect[R]) -> Plan[R]:
    outcome = yield step
    return cast(R, outcome)  # the driver answers an effect with what its run() returned
