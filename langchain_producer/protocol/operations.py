"""The operations of the Producer API as plans: each one once, checked before anything is sent.

``ProducerClient``'s methods and the tools run these through a driver (``_driver``); nothing
here does I/O. Paid calls go through the journal of paid calls (``_paid_calls``): once per
journal key, resumed instead of resubmitted. ``Configured`` is what an operation reads of its
client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Unpack

from pydantic import BaseModel

from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.errors import ProducerValidationError
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    TaskBatch,
    UploadedAudio,
    Video,
    WavResult,
)
from langchain_producer.params import AudioParams
from langchain_producer.protocol import paid_calls as _paid_calls
from langchain_producer.protocol.polling import PollSchedule, wait_all
from langchain_producer.protocol.polling import wait as _wait
from langchain_producer.protocol.results import parse_lyrics, parse_upload, parse_video, parse_wav
from langchain_producer.protocol.retry import RetryPolicy, paid_call
from langchain_producer.protocol.steps import Plan, progress
from langchain_producer.protocol.tasks import parse_submission
from langchain_producer.protocol.wire import AUDIOS, LYRICS, UPLOAD, VIDEOS, WAV, audios_body
from langchain_producer.safety import journal as _journal
from langchain_producer.safety.context import graph_store
from langchain_producer.safety.journal import BeforeSubmit, PlanOptions
from langchain_producer.settings import check_http_url

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

R = TypeVar("R", bound=BaseModel)
logger = logging.getLogger("langchain_producer")


class Configured(Protocol):
    """What an operation reads of its client (a ``ProducerClient`` has it all)."""

    @property
    def default_model(self) -> str: ...
    @property
    def callback_url(self) -> str | None: ...
    @property
    def store(self) -> BaseStore | None: ...

    retry_policy: RetryPolicy
    poll_schedule: PollSchedule


def submit(
    client: Configured,
    params: AudioParams,
    *,
    wait: bool = False,
    max_wait: float = 600.0,
    key: str | None = None,
    before_submit: BeforeSubmit | None = None,
    tool: str | None = None,
    park: bool = False,
) -> Plan[ProducerTask]:
    """Submit an audios action once per journal key; with ``wait``, then wait for it.

    ``park``: return at acceptance, the journal entry marked ``parked`` for the receiver to
    wake the thread when the task ends; only a journalled call in a thread can park (any
    other waits as ``wait`` says, with a warning logged).
    """
    if not isinstance(params, AudioParams):
        raise ProducerValidationError(
            f"submit() takes an action from langchain_producer.params, not {type(params)}.",
            hint="For example: client.submit(Generate(prompt='lo-fi beat')).",
        )
    call = _journalled(
        client, params.action, AUDIOS, params.wire_fields(), key, before_submit, tool, park
    )
    request = audios_body(
        params, default_model=client.default_model, callback_url=client.callback_url
    )
    send = paid_call(
        AUDIOS,
        request,
        lambda body: parse_submission(body, None, params.action),
        client.retry_policy,
    )
    done = yield from _paid_calls.submit_once(call, send, task_id_of=lambda t: t.task_id)
    if done.result is None:
        assert done.entry is not None  # a call not sent now was found in the journal
        parked = done.entry.parked
        task = yield from _paid_calls.resume_task(
            done.entry,
            wait=wait and not parked,
            max_wait=max_wait,
            schedule=client.poll_schedule,
            listen=listening_store(client),
        )
        return _parked(done.stamp(task), parked)
    task = done.result
    # The paid task's id, the one thing that must never be lost, is told at once to the log
    # and to whoever follows progress, before any waiting that might be interrupted.
    logger.info("Producer %s task %s accepted", params.action, task.task_id)
    yield from progress(task)
    parked = call.request.parked
    if wait and not parked and not task.is_terminal:
        task = yield from _wait(
            task.task_id,
            max_wait=max_wait,
            schedule=client.poll_schedule,
            just_submitted=True,
            listen=listening_store(client),
        )
    return _parked(done.stamp(task), parked)


def _parked(task: ProducerTask, parked: bool) -> ProducerTask:
    """``task``, marked parked when its thread is to be woken with it (a running task only:
    one that has ended is the answer already)."""
    if not parked or task.is_terminal:
        return task
    return task.model_copy(update={"parked": True})


def get_tasks(
    client: Configured, task_ids: Sequence[str], *, max_wait: float = 0.0
) -> Plan[TaskBatch]:
    """Look up to ``BATCH_MAX_IDS`` tasks up; with ``max_wait``, until all found have ended."""
    ids = list(dict.fromkeys(check_id(task_id) for task_id in task_ids))
    if not ids or len(ids) > BATCH_MAX_IDS:
        raise ProducerValidationError(
            f"A batch look-up takes 1 to {BATCH_MAX_IDS} task ids, got {len(ids)}.",
            hint=f"Split the ids into groups of at most {BATCH_MAX_IDS}.",
        )
    return wait_all(
        ids, max_wait=max_wait, schedule=client.poll_schedule, policy=client.retry_policy
    )


def wait(client: Configured, task_id: str, *, max_wait: float = 600.0) -> Plan[ProducerTask]:
    """Poll a task until it ends or ``max_wait`` passes (see ``ProducerClient.wait``)."""
    return _wait(
        check_id(task_id),
        max_wait=max_wait,
        schedule=client.poll_schedule,
        listen=listening_store(client),
    )


def listening_store(client: Configured) -> BaseStore | None:
    """Where a wait listens for its task's callback, when the client gives the service a
    ``callback_url``: the store its paid calls are journalled in (the client's ``store``, else
    the graph's), which is where the receiver records what it confirmed. None without a
    ``callback_url`` or a store: the wait polls as it always has."""
    if client.callback_url is None:
        return None
    return client.store if client.store is not None else graph_store()


def lyrics(client: Configured, prompt: str, **paid: Unpack[PlanOptions]) -> Plan[Lyrics]:
    body = {"prompt": check_text(prompt, "prompt")}
    return _paid(client, "lyrics", LYRICS, body, parse_lyrics, **paid)


def upload(client: Configured, audio_url: str, **paid: Unpack[PlanOptions]) -> Plan[UploadedAudio]:
    body = {"audio_url": check_http_url(audio_url, "audio_url")}
    return _paid(client, "upload", UPLOAD, body, parse_upload, **paid)


def video(client: Configured, audio_id: str, **paid: Unpack[PlanOptions]) -> Plan[Video]:
    audio_id = check_id(audio_id, "audio_id")
    body = {"audio_id": audio_id}
    return _paid(client, "video", VIDEOS, body, lambda b: parse_video(b, audio_id), **paid)


def wav(client: Configured, audio_id: str, **paid: Unpack[PlanOptions]) -> Plan[WavResult]:
    audio_id = check_id(audio_id, "audio_id")
    body = {"audio_id": audio_id}
    return _paid(client, "wav", WAV, body, lambda b: parse_wav(b, audio_id), **paid)


def _paid(
    client: Configured,
    action: str,
    path: str,
    body: dict[str, Any],
    parse: Callable[[dict[str, Any]], R],
    *,
    key: str | None = None,
    before_submit: BeforeSubmit | None = None,
    tool: str | None = None,
) -> Plan[R]:
    """A paid call answered at once (lyrics, upload, video, WAV), once per journal key."""
    call = _journalled(client, action, path, body, key, before_submit, tool)
    send = paid_call(path, body, parse, client.retry_policy)
    done = yield from _paid_calls.submit_once(
        call, send, task_id_of=lambda r: getattr(r, "task_id", None), answer_of=_answer_of
    )
    if done.result is not None:
        return done.stamp(done.result)
    # Resumed: the answer the journal kept, read as the service's answer was.
    return done.stamp(parse(_paid_calls.recorded_answer(done.entry)))


def _journalled(
    client: Configured,
    action: str,
    path: str,
    arguments: dict[str, Any],
    key: str | None,
    before_submit: BeforeSubmit | None,
    tool: str | None,
    park: bool = False,
) -> _paid_calls.PaidCall:
    request = _journal.PaidRequest(action, path, arguments, tool=tool, key=key, parked=park)
    return _paid_calls.paid_call(request, store=client.store, before_submit=before_submit)


def _answer_of(result: BaseModel) -> dict[str, Any]:
    """What the journal keeps of a paid call answered at once: the service's answer (small)."""
    return dict(getattr(result, "raw", {}))


def check_id(value: str, what: str = "task_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProducerValidationError(
            f"{what} must be a non-empty string, got {value!r}.",
            hint=f"Pass the {what} exactly as an earlier result gave it.",
        )
    return value.strip()


def check_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProducerValidationError(f"{what} must be a non-empty string.")
    return value
