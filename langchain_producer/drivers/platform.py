"""The platform API: an application's balance, read with the platform token (not the API key).

``GET {platform_base_url}/api/v1/applications/{application_id}/`` with ``authorization: Bearer
<platform token>`` answers the application as a JSON object (``id``, ``service_id``,
``remaining_amount`` and ``used_amount`` in Credits, ``scope``, among others). The answer is
untrusted: it goes through the protocol's one decoder (size cap, lying encodings, deep nesting,
NaN), and an amount that is missing, not a number or not finite is an error, never a crash.

The request goes through the client's own http clients (``Connections``) with the token set on
the request, never on the client (the same client downloads songs from other hosts), and no
redirect is followed (the token would go with it).

Retries: the look-up is free, so a transport error, a 429 or a 5xx is tried once more after the
retry policy's first back-off (at most 2 s, ``Retry-After`` included), and no more: the check
stands in front of a paid call, which a platform API that is down must not hold up for a whole
look-up's back-off, and the balance guard caches what it learnt for its interval anyway. With
``max_retries=0``, no retry.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict

from langchain_producer.drivers.exchange import aexchange, exchange
from langchain_producer.errors import (
    AuthenticationError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    ProducerValidationError,
)
from langchain_producer.protocol.answers import Reply, Unreadable, decode, describe
from langchain_producer.protocol.answers import finite as _finite
from langchain_producer.settings import APPLICATION_ID_ENV, PLATFORM_TOKEN_ENV, ProducerSettings

if TYPE_CHECKING:
    from langchain_producer.drivers.connections import Connections
    from langchain_producer.protocol.retry import RetryPolicy

APPLICATIONS = "/api/v1/applications/"
_TOO_LARGE = "an answer too large to be the platform API's"
_MAX_PAUSE = 2.0


class Balance(BaseModel):
    """An application's balance, as the platform API reported it (amounts in Credits).

    Attributes:
        application_id: The application asked about (``application_id`` setting).
        remaining: What is left to spend (``remaining_amount``).
        used: What was spent so far (``used_amount``), None if the answer had no readable one.
        service_id: The service the application belongs to, if given.
        scope: The application's scope, if given.
    """

    model_config = ConfigDict(frozen=True)

    application_id: str
    remaining: float
    used: float | None = None
    service_id: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class _Failed:
    error: ProducerError
    retryable: bool
    retry_after: float | None = None


def _target(settings: ProducerSettings) -> tuple[str, str, str]:
    """The URL, the token and the application id; a ``ProducerValidationError`` (before any
    network call) when the token or the id is not set."""
    token = settings.platform_token.get_secret_value() if settings.platform_token else ""
    application_id = settings.application_id or ""
    missing = [
        f"no platform token ({PLATFORM_TOKEN_ENV} or platform_token=)" * (not token),
        f"no application id ({APPLICATION_ID_ENV} or application_id=)" * (not application_id),
    ]
    if not token or not application_id:
        raise ProducerValidationError(
            f"The balance cannot be read: {' and '.join(m for m in missing if m)}; nothing was "
            "sent.",
            hint=(
                "The balance comes from the AceDataCloud platform API, which takes its own "
                "platform token (not the API token) and the application's id, both from the "
                "AceDataCloud console."
            ),
        )
    url = f"{settings.platform_base_url}{APPLICATIONS}{application_id}/"
    return url, token, application_id


def _request(http: httpx.Client | httpx.AsyncClient, url: str, token: str) -> httpx.Request:
    request = http.build_request("GET", url)
    request.headers.update({"authorization": f"Bearer {token}", "accept": "application/json"})
    return request


def read_balance(
    connections: Connections, settings: ProducerSettings, policy: RetryPolicy
) -> Balance:
    """The application's balance, blocking (see the module's docstring)."""
    url, token, application_id = _target(settings)
    attempts = 1 + min(1, policy.max_retries)
    attempt = 0
    while True:
        outcome = _read(_get(connections.http, url, token), application_id)
        if isinstance(outcome, Balance):
            return outcome
        attempt += 1
        if not outcome.retryable or attempt >= attempts:
            raise outcome.error.redact(token)
        time.sleep(_pause(policy, outcome))


async def aread_balance(
    connections: Connections, settings: ProducerSettings, policy: RetryPolicy
) -> Balance:
    """The application's balance, on the running event loop."""
    url, token, application_id = _target(settings)
    attempts = 1 + min(1, policy.max_retries)
    attempt = 0
    while True:
        outcome = _read(await _aget(connections.http_async, url, token), application_id)
        if isinstance(outcome, Balance):
            return outcome
        attempt += 1
        if not outcome.retryable or attempt >= attempts:
            raise outcome.error.redact(token)
        await asyncio.sleep(_pause(policy, outcome))


def _pause(policy: RetryPolicy, failed: _Failed) -> float:
    return max(0.0, min(_MAX_PAUSE, policy.delay(0, failed.retry_after, draw=random.random())))


def _get(http: httpx.Client, url: str, token: str) -> Reply | Exception:
    return exchange(http, lambda: _request(http, url, token), _TOO_LARGE)


async def _aget(http: httpx.AsyncClient, url: str, token: str) -> Reply | Exception:
    return await aexchange(http, lambda: _request(http, url, token), _TOO_LARGE)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def _read(outcome: Reply | Exception, application_id: str) -> Balance | _Failed:
    """The balance in an answer, or the error it stands for (never raises)."""
    if isinstance(outcome, Exception):
        unreachable = ProducerConnectionError(
            f"Could not reach the platform API ({describe(outcome)}).",
            hint="Check the network and platform_base_url, then try again.",
        )
        return _Failed(unreachable, retryable=True)
    answer = decode(outcome)
    status = outcome.status
    trace_id = outcome.headers.get("x-trace-id")
    if 200 <= status < 300:
        if isinstance(answer, Unreadable):
            message = f"The platform API answered with {answer.what}."
            return _Failed(_api(message, status, "unreadable_answer", trace_id), retryable=True)
        remaining = _finite(answer.get("remaining_amount"))
        if remaining is None:
            message = (
                "The platform API's answer has no readable remaining_amount (missing, not a "
                "number, or not a finite one)."
            )
            return _Failed(_api(message, status, "unreadable_answer", trace_id), retryable=False)
        return Balance(
            application_id=application_id,
            remaining=remaining,
            used=_finite(answer.get("used_amount")),
            service_id=_text(answer.get("service_id")),
            scope=_text(answer.get("scope")),
        )
    said = _said(answer)
    if status in (401, 403):
        refused = AuthenticationError(
            f"The platform API refused the platform token (HTTP {status}){said}.",
            status_code=status,
            trace_id=trace_id,
            hint=(
                f"Check {PLATFORM_TOKEN_ENV} (or platform_token) is a valid platform token of "
                "the account that owns the application; it is not the API token."
            ),
        )
        return _Failed(refused, retryable=False)
    if status == 404:
        message = f"The platform API knows no such application (HTTP 404){said}."
        hint = f"Check {APPLICATION_ID_ENV} (or application_id) names one of your applications."
        return _Failed(_api(message, status, "not_found", trace_id, hint), retryable=False)
    if 300 <= status < 400:
        message = f"The platform API answered HTTP {status}, a redirect, which is not followed."
        hint = "The token would go with it: check platform_base_url is the platform API itself."
        return _Failed(_api(message, status, "redirect", trace_id, hint), retryable=False)
    retryable = status == 429 or status >= 500
    message = f"The platform API answered HTTP {status}{said}."
    hint = "A passing fault of the platform API: try again in a minute." if retryable else ""
    retry_after = _finite(outcome.headers.get("retry-after")) if status == 429 else None
    failed = _api(message, status, None, trace_id, hint)
    return _Failed(failed, retryable=retryable, retry_after=retry_after)


def _said(answer: dict[str, Any] | Unreadable) -> str:
    """What the platform API said about an error, briefly (``detail`` or ``error.message``)."""
    if not isinstance(answer, dict):
        return ""
    error = answer.get("error")
    words = _text(answer.get("detail")) or _text(
        error.get("message") if isinstance(error, dict) else error
    )
    return f": {words.rstrip('.')}" if words else ""


def _api(
    message: str, status: int, code: str | None, trace_id: str | None, hint: str = ""
) -> ProducerAPIError:
    return ProducerAPIError(message, status_code=status, code=code, trace_id=trace_id, hint=hint)


__all__ = ["Balance", "aread_balance", "read_balance"]
