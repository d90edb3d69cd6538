"""Following tasks: look-ups, shared look-ups, and waiting with a schedule. Pure plans.

Look-ups are free. A wait polls soon at first and less often later, on a grid shared by every
wait (so concurrent waits wake together and share one batch look-up), and whatever breaks a
wait, the caller learns which task it was and how to follow it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.errors import ProducerError, TaskNotFoundError
from langchain_producer.models import ProducerTask, TaskBatch
from langchain_producer.protocol.retry import RetryPolicy, exchange
from langchain_producer.protocol.steps import (
    Plan,
    await_callback,
    lookup,
    now,
    progress,
    sleep,
)
from langchain_producer.protocol.tasks import parse_batch, parse_task
from langchain_producer.protocol.wire import TASKS, retrieve_batch_body, retrieve_body


def get_task(task_id: str, policy: RetryPolicy) -> Plan[ProducerTask]:
    """Look one task up (free, retried)."""
    body = yield from exchange(TASKS, retrieve_body(task_id), paid=False, policy=policy)
    return parse_task(body, task_id)


def get_tasks(task_ids: list[str], policy: RetryPolicy) -> Plan[TaskBatch]:
    """Look up to ``BATCH_MAX_IDS`` tasks up in one call."""
    body = yield from exchange(TASKS, retrieve_batch_body(task_ids), paid=False, policy=policy)
    return parse_batch(body, task_ids)


Found = dict[str, ProducerTask | ProducerError]
"""Each looked-up id with its task, or the error that stands for it."""


def look_up(task_ids: list[str], policy: RetryPolicy) -> Plan[Found]:
    """Look many waited-on tasks up at once: the one path of shared look-ups, sync and async.

    One ``retrieve`` for a single id, else ``retrieve_batch`` in chunks of ``BATCH_MAX_IDS``.
    Never raises: a failed chunk's error (copied, naming each task) stands for each of its
    ids, and an id the service does not know gets ``TaskNotFoundError``.
    """
    found: Found = {}
    for start in range(0, len(task_ids), BATCH_MAX_IDS):
        chunk = task_ids[start : start + BATCH_MAX_IDS]
        try:
            if len(chunk) == 1:  # the answer is this task's, whatever id its record shows
                found[chunk[0]] = yield from get_task(chunk[0], policy)
                continue
            tasks = (yield from get_tasks(chunk, policy)).tasks
        except ProducerError as error:
            found.update({task_id: error.with_task(task_id) for task_id in chunk})
            continue
        by_id = {task.task_id: task for task in tasks}
        for task_id in chunk:
            found[task_id] = by_id.get(task_id) or TaskNotFoundError(
                f"No task with id {task_id!r} exists.", task_id=task_id
            )
    return found


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """How often to look at a running task: soon at first, then less and less often.

    A quick task is noticed within ``first`` seconds of finishing; a slow one costs few calls.
    When the service reports rising progress, the next look is brought forward to the moment
    the task should end (never sooner than ``first``), so a long task is noticed soon too.
    """

    first: float = 2.0
    factor: float = 1.5
    cap: float = 15.0
    listening: float = 60.0
    """Seconds between safety polls while the service is to call back (``wait(listen=...)``)."""

    @property
    def shared_for(self) -> float:
        """How long a record one wait's look-up brought back for another wait still answers
        that wait's own look-up: half of ``first``, within the jitter of waits woken together
        on a busy machine, and well short of any wait's next look."""
        return self.first / 2

    def interval(self, poll: int) -> float:
        return min(self.cap, self.first * self.factor**poll)

    def pause(
        self, poll: int, *, now: float, deadline: float, eta: float | None = None
    ) -> float | None:
        """Seconds to sleep before look-up number ``poll + 1``; None once the deadline passed.

        ``eta`` (seconds until the task should end, if known) can only shorten the pause.
        Wake-ups are rounded up to a shared grid (a quarter of ``first``) on the monotonic
        clock, so waits running side by side wake together and their look-ups can share one
        batch request.
        """
        remaining = deadline - now
        if remaining <= 0:
            return None
        step = self.interval(poll)
        if eta is not None:
            step = min(step, max(self.first, eta))
        grid = self.first / 4
        wake = math.ceil((now + min(step, remaining)) / grid) * grid
        return min(wake - now, remaining)


class _Eta:
    """When a running task should end, from the progress the service reports over time."""

    def __init__(self) -> None:
        self._first: tuple[float, float] | None = None

    def update(self, now: float, progress: float | None) -> float | None:
        if progress is None or not 0 < progress < 100:
            return None
        if self._first is None:
            self._first = (now, progress)
            return None
        since, start = self._first
        if progress <= start or now <= since:
            return None  # no progress seen since: no basis for a guess
        rate = (progress - start) / (now - since)
        return (100 - progress) / rate


def wait(
    task_id: str,
    *,
    max_wait: float,
    schedule: PollSchedule,
    just_submitted: bool = False,
    listen: Any = None,
) -> Plan[ProducerTask]:
    """Poll until the task is complete or failed, or ``max_wait`` seconds have passed.

    Returns the last task seen: on timeout it is still pending or processing, never lost.
    ``just_submitted`` skips the first, immediate look: a task accepted a moment ago is pending.
    ``listen``: the store the webhook receiver records confirmed callbacks in, when the service
    was given a ``callback_url``; the wait then listens (``_listening``) instead of polling.
    """
    start = yield from now()
    try:
        if listen is not None:
            return (
                yield from _listening(task_id, start + max_wait, schedule, just_submitted, listen)
            )
        return (yield from _polling(task_id, start, max_wait, schedule, just_submitted))
    except TaskNotFoundError as error:
        if not just_submitted:  # an id the caller gave: it may be wrong
            raise error.with_task(task_id) from error.__cause__
        raise error.following([task_id], follow_in=schedule.cap) from error.__cause__
    except ProducerError as error:
        # Whatever broke the wait, the task goes on: the caller learns which one it was and
        # to follow it, never to submit it again.
        raise error.following(
            [task_id], follow_in=schedule.cap, accepted=just_submitted
        ) from error.__cause__


def _listening(
    task_id: str, deadline: float, schedule: PollSchedule, just_submitted: bool, store: Any
) -> Plan[ProducerTask]:
    """Wait for the task's confirmed callback, with a safety poll every ``schedule.listening``.

    Between polls the plan yields ``Await`` (the driver reads ``store`` and wakes when the
    receiver records the task); the record it answers was confirmed with the service by the
    receiver, so it is returned without another look-up. When no callback comes (lost), each
    safety poll looks the task up as ``_polling`` does, and one that has ended ends the wait.
    A task given by the caller (not ``just_submitted``) is looked at once first: an id the
    service does not know fails at once, and a finished task comes back at once.
    """
    task: ProducerTask | None = None
    if not just_submitted:
        task = yield from lookup(task_id)
        yield from progress(task)
        if task.is_terminal:
            return task
    while (left := deadline - (yield from now())) > 0:
        heard = yield from await_callback(task_id, min(schedule.listening, left), store)
        if heard is not None:
            yield from progress(heard)
            return heard
        task = yield from lookup(task_id)  # the safety poll
        yield from progress(task)
        if task.is_terminal:
            return task
    if task is None:  # out of time before any look: the caller still gets the task as it is
        task = yield from lookup(task_id)
        yield from progress(task)
    return task


def _polling(
    task_id: str, start: float, max_wait: float, schedule: PollSchedule, just_submitted: bool
) -> Plan[ProducerTask]:
    """Poll on ``schedule`` (soon at first, then less often, sooner when the end is near)."""
    poll = 0
    eta = _Eta()
    if just_submitted:
        pause = schedule.pause(poll, now=start, deadline=start + max_wait)
        yield from sleep(pause or 0.0)
        poll += 1
    while True:
        task = yield from lookup(task_id)
        yield from progress(task)
        if task.is_terminal:
            return task
        moment = yield from now()
        pause = schedule.pause(
            poll, now=moment, deadline=start + max_wait, eta=eta.update(moment, task.progress)
        )
        if pause is None:
            return task
        yield from sleep(pause)
        poll += 1


def wait_all(
    task_ids: list[str], *, max_wait: float, schedule: PollSchedule, policy: RetryPolicy
) -> Plan[TaskBatch]:
    """Poll a batch until every known task is complete or failed, or ``max_wait`` passes."""
    start = yield from now()
    poll = 0
    while True:
        try:
            batch = yield from get_tasks(task_ids, policy)
        except ProducerError as error:
            raise error.following(
                task_ids, follow_in=schedule.cap, accepted=False
            ) from error.__cause__
        for task in batch.tasks:
            yield from progress(task)
        pause = schedule.pause(poll, now=(yield from now()), deadline=start + max_wait)
        if pause is None or all(task.is_terminal for task in batch.tasks):
            return batch
        yield from sleep(pause)
        poll += 1
