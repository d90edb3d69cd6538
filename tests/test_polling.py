"""The wait plan driven by hand: which look-ups happen when, with no clock and no network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langchain_producer.models import ProducerTask
from langchain_producer.protocol.polling import PollSchedule, wait
from langchain_producer.protocol.steps import Lookup, Now, Sleep

SCHEDULE = PollSchedule(first=2.0, factor=1.5, cap=15.0)


def _task(state: str, progress: float | None = None) -> ProducerTask:
    return ProducerTask(task_id="t-1", state=state, progress=progress)  # type: ignore[arg-type]


def drive_wait(
    answer: Callable[[float], ProducerTask], *, max_wait: float = 600.0, just_submitted: bool
) -> tuple[ProducerTask, list[float], list[float]]:
    """Drive ``wait`` on a clock that starts at 0: each Lookup gets ``answer(now)``;
    returns the result, the times of the look-ups and the pauses asked for."""
    plan = wait("t-1", max_wait=max_wait, schedule=SCHEDULE, just_submitted=just_submitted)
    now = 0.0
    looks: list[float] = []
    pauses: list[float] = []
    outcome: Any = None
    try:
        while True:
            step = plan.send(outcome)
            outcome = None
            if isinstance(step, Now):
                outcome = now
            elif isinstance(step, Sleep):
                pauses.append(step.seconds)
                now += step.seconds
            elif isinstance(step, Lookup):
                looks.append(now)
                outcome = answer(now)
    except StopIteration as done:
        return done.value, looks, pauses


def run_wait(
    answers: list[ProducerTask], *, max_wait: float = 600.0, just_submitted: bool = False
) -> tuple[ProducerTask, list[float], list[float]]:
    """``drive_wait`` with the answers given in turn (the last one repeated)."""
    pending = list(answers)

    def answer(now: float) -> ProducerTask:
        return pending.pop(0) if len(pending) > 1 else pending[0]

    return drive_wait(answer, max_wait=max_wait, just_submitted=just_submitted)


def test_pauses_grow_from_the_first_interval_to_the_cap() -> None:
    result, looks, pauses = run_wait([_task("processing")] * 12 + [_task("complete")])
    assert result.is_complete
    assert pauses[:8] == [2.0, 3.0, 4.5, 7.0, 10.5, 15.0, 15.0, 15.0]  # exact: no real clock
    assert looks[0] == 0.0  # an existing task is looked at at once


def test_a_just_submitted_task_is_first_looked_at_after_one_interval() -> None:
    _, looks, _ = run_wait([_task("complete")], just_submitted=True)
    assert looks == [2.0]


def test_rising_progress_brings_the_next_look_forward_to_the_expected_end() -> None:
    # 20% at the first look, 80% three seconds later: 20%/s, so done in about a second. The
    # schedule alone would wait 4.5 s; the estimate brings it to the 2 s floor.
    answers = [_task("processing", 20), _task("processing", 80), _task("complete", 100)]
    result, looks, pauses = run_wait(answers, just_submitted=True)
    assert result.is_complete
    assert pauses == [2.0, 3.0, 2.0]
    assert len(looks) == 3


def test_stalled_or_missing_progress_keeps_the_plain_schedule() -> None:
    stalled = [_task("processing", 40)] * 4 + [_task("complete", 100)]
    _, _, with_stall = run_wait(stalled)
    _, _, without = run_wait([_task("processing")] * 4 + [_task("complete")])
    assert with_stall == without


def test_the_estimate_never_polls_faster_than_the_first_interval() -> None:
    answers = [_task("processing", p) for p in (1, 50, 99, 99.5, 99.9)] + [_task("complete")]
    _, _, pauses = run_wait(answers)
    assert min(pauses) >= 2.0


def test_timeout_returns_the_running_task_after_a_last_look_at_the_deadline() -> None:
    result, looks, _ = run_wait([_task("processing", 10)], max_wait=10.0)
    assert result.state == "processing" and result.task_id == "t-1"
    assert looks == [0.0, 2.0, 5.0, 9.5, 10.0]


def noticed_after(finish: float) -> float:
    """How long after finishing (``finish`` s after it was submitted) a task is returned."""
    task, looks, _ = drive_wait(
        lambda now: _task("complete" if now >= finish else "processing"),
        max_wait=3600.0,
        just_submitted=True,
    )
    assert task.is_complete
    return looks[-1] - finish


@pytest.mark.parametrize("finish", [0.1, 1.0, 1.99])
def test_a_task_done_before_the_first_look_is_noticed_within_the_first_interval(
    finish: float,
) -> None:
    assert noticed_after(finish) <= SCHEDULE.first


@pytest.mark.parametrize("finish", [2.5, 6.0, 12.0, 30.0, 61.0, 240.0, 900.0])
def test_a_later_task_is_noticed_within_one_interval_never_more_than_the_cap(
    finish: float,
) -> None:
    # The interval in effect when it finished: it grows by ``factor`` from ``first`` up to the
    # cap (plus the quarter-interval grid that lets waits share look-ups).
    grid = SCHEDULE.first / 4
    delay = noticed_after(finish)
    assert 0 <= delay <= SCHEDULE.cap + grid
    if finish < 10:
        assert delay <= SCHEDULE.interval(2) + grid  # still checked every few seconds
