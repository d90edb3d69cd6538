"""Retries and errors: when a call is tried again, and what each failure means. Pure plans.

Look-ups are free, so they are retried on anything passing. Paid calls are sent again only when
the request cannot have reached the service, or the service said 429 before doing anything;
any other doubt becomes ``SubmissionUncertainError``, and an answer that shows a task id means
the job was accepted: it is followed, never lost, never resubmitted.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from langchain_producer._constants import API_KEY_ENV
from langchain_producer.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    RateLimitError,
    SubmissionUncertainError,
)
from langchain_producer.protocol.answers import Reply, Unreadable, decode, describe, finite
from langchain_producer.protocol.results import JobFailedError, _str
from langchain_producer.protocol.steps import Plan, draw, send, sleep, wall_clock

T = TypeVar("T")

_AUTH_CODES = frozenset({"invalid_token", "token_expired", "token_mismatched", "no_token"})


def _retry_after_is_a_date(headers: httpx.Headers) -> bool:
    value = headers.get("retry-after", "").strip()
    return bool(value) and finite(value) is None


def retry_after(headers: httpx.Headers, wall_now: float | None = None) -> float | None:
    """Seconds the service asked us to wait (``Retry-After``: seconds, or an HTTP date read
    against ``wall_now``); None when it did not say, or said nothing readable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    seconds = finite(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return None if wall_now is None else max(0.0, when.timestamp() - wall_now)


def _trace_id(reply: Reply, body: Any) -> str | None:
    from_body = body.get("trace_id") if isinstance(body, dict) else None
    return _str(from_body) or reply.headers.get("x-trace-id")


def api_error(reply: Reply, body: Any, *, wall_now: float | None = None) -> ProducerAPIError:
    """The exception for an error answer, with a message that says what to do next.

    ``wall_now`` (seconds since the epoch) reads a ``Retry-After`` given as an HTTP date.
    """
    error = body.get("error") if isinstance(body, dict) else None
    code = _str(error.get("code")) if isinstance(error, dict) else None
    message = _str(error.get("message")) if isinstance(error, dict) else _str(error)
    status = reply.status
    reason = httpx.codes.get_reason_phrase(status)
    message = message or (f"HTTP {status} {reason}".strip() + " from the service.")
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "trace_id": _trace_id(reply, body),
    }
    if status == 401 or code in _AUTH_CODES:
        return AuthenticationError(
            message,
            hint=(
                f"The API key was refused: check {API_KEY_ENV} (or api_key) is a valid, "
                "unexpired AceDataCloud token for the Producer API."
            ),
            **common,
        )
    if status == 403 or code == "used_up":
        return InsufficientBalanceError(
            message,
            hint=(
                "The account balance is used up: top it up at AceDataCloud, then try again. "
                "The key itself is fine."
            ),
            **common,
        )
    if status == 429:
        return RateLimitError(
            message,
            retry_after=retry_after(reply.headers, wall_now),
            hint="Rate limited: wait a little before the next call.",
            **common,
        )
    if 300 <= status < 400:
        where = reply.headers.get("location") or "another address"
        message = f"The service answered HTTP {status}, a redirect to {where}, not an answer."
        hint = (
            "API calls never follow redirects (a paid job would be sent to another host). "
            "Nothing was done there. Check base_url: it must be the Producer API itself."
        )
        common["code"] = code or "redirect"
    elif status == 404:
        hint = "The API path was not found: check base_url points at the Producer API."
    elif status >= 500:
        hint = "The service had a fault: try again in a minute."
    else:
        hint = "Fix the request as the message says, then call again."
    return ProducerAPIError(message, hint=hint, **common)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a call again, and how long to wait first.

    Look-ups are free, so they retry on any transport error, 429 and 5xx. Paid submissions retry
    only when the request cannot have reached the service (connection refused, connect timeout,
    no free connection) or the service said 429 before doing anything.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None, *, draw: float) -> float:
        """Seconds before attempt ``attempt + 1``: what the service asked (capped), else an
        exponential back-off with jitter from ``draw`` (a random float in [0, 1))."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        # Jitter spreads concurrent clients apart; a floor of half keeps the back-off real.
        return ceiling * (0.5 + draw / 2)


_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def exchange(
    path: str, body: dict[str, Any], *, paid: bool, policy: RetryPolicy
) -> Plan[dict[str, Any]]:
    """Send one call with the retry policy; return its decoded JSON object.

    Raises the error that fits: ``SubmissionUncertainError`` whenever a paid call may have
    reached the service without us learning the outcome. A paid answer that cannot be read
    but still shows its task id counts as accepted: ``{"task_id": ...}`` is returned, so the
    paid task is followed, never lost.
    """
    attempt = 0
    while True:
        outcome = yield from send(path, body)
        wait_for: float | None = None
        if isinstance(outcome, Reply):
            answer = decode(outcome)
            if outcome.status < 300 and isinstance(answer, dict) and not _refused(answer):
                return answer
            # Only an answer that is not a result reads the clock (for a dated Retry-After).
            wall = (yield from wall_clock()) if _retry_after_is_a_date(outcome.headers) else None
            if outcome.status < 300 and isinstance(answer, dict):
                raise api_error(outcome, answer, wall_now=wall)
            if paid and outcome.status < 300 and isinstance(answer, Unreadable) and answer.task_id:
                return {"task_id": answer.task_id, "trace_id": outcome.headers.get("x-trace-id")}
            failure, retryable = _failed_answer(outcome, answer, path, paid, wall)
            if outcome.status == 429:
                wait_for = retry_after(outcome.headers, wall)
        else:
            never_sent = isinstance(outcome, _NEVER_SENT)
            retryable = never_sent or not paid
            failure = (
                _uncertain(path, describe(outcome), None)
                if paid and not never_sent
                else ProducerConnectionError(
                    f"Could not reach the Producer service ({describe(outcome)}).",
                    hint="Check the network and base_url, then try again.",
                )
            )
        if not retryable or attempt >= policy.max_retries:
            raise failure
        jitter = (yield from draw()) if wait_for is None else 0.0
        yield from sleep(policy.delay(attempt, wait_for, draw=jitter))
        attempt += 1


def _failed_answer(
    reply: Reply, answer: dict[str, Any] | Unreadable, path: str, paid: bool, wall: float | None
) -> tuple[ProducerError, bool]:
    """The error for an answer that is not a usable result, and whether to try again."""
    trace_id = _trace_id(reply, answer)
    if reply.status < 300:  # unreadable, so not a result
        assert isinstance(answer, Unreadable)
        if paid:
            return _uncertain(path, answer.what, trace_id), False
        unreadable = ProducerAPIError(
            f"The service answered with {answer.what}.",
            status_code=reply.status,
            code="unreadable_answer",
            hint="A passing fault of the service: look again shortly.",
            trace_id=trace_id,
        )
        return unreadable, True
    body = answer if isinstance(answer, dict) else None
    failure: ProducerError = api_error(reply, body, wall_now=wall)
    if paid and reply.status >= 500:
        failure = _uncertain(path, f"HTTP {reply.status}", failure.trace_id)
    return failure, reply.status == 429 or (not paid and reply.status >= 500)


def _refused(body: dict[str, Any]) -> bool:
    # A 2xx answer that says `success: false` with no task behind it is a refusal, not a result.
    # (A failed task's own record nests its `success: false` under `response`.)
    return body.get("success") is False and not body.get("task_id")


def _uncertain(path: str, what: str, trace_id: str | None) -> SubmissionUncertainError:
    return SubmissionUncertainError(
        f"The submission to {path} got {what}; it may have been accepted and billed.",
        endpoint=path,
        hint=(
            "Do not submit it again blindly: the job may be running. Check recent tasks "
            "(or ask support with the trace id) before retrying."
        ),
        trace_id=trace_id,
    )


def paid_call(
    path: str, body: dict[str, Any], parse: Callable[[dict[str, Any]], T], policy: RetryPolicy
) -> Plan[T]:
    """Send a paid call once and read its answer.

    An answer that shows a task id but cannot be read in full means the job was accepted:
    the error then says so, with the id, and how to follow it (``ProducerError.following``).
    """
    answer = yield from exchange(path, body, paid=True, policy=policy)
    try:
        return parse(answer)
    except JobFailedError:
        raise  # the service's own verdict on an accepted job: final, nothing to follow
    except ProducerError as error:
        task_id = error.task_id or _str(answer.get("task_id"))
        if task_id:
            raise error.following([task_id]) from error.__cause__
        raise
