"""Failures the emulator injects on demand: by queue (``fail_next``) or per request (header)."""

from __future__ import annotations

from typing import NamedTuple

FAIL_HEADER = "X-Emulator-Fail"
"""The request header that injects a failure into that one request."""


class ErrorAnswer(NamedTuple):
    """An error the service answers instead of doing anything."""

    status: int
    code: str
    message: str
    retry_after: str | None = None


ERROR_ANSWERS: dict[str, ErrorAnswer] = {
    "rate_limit": ErrorAnswer(429, "too_many_requests", "Too many requests (emulated).", "1"),
    # No Retry-After is documented: some 429s come without one, so a client's own back-off runs.
    "rate_limit_no_retry_after": ErrorAnswer(
        429, "too_many_requests", "Too many requests (emulated)."
    ),
    "server_error": ErrorAnswer(500, "api_error", "The server failed (emulated)."),
    "used_up": ErrorAnswer(403, "used_up", "The account balance is used up (emulated)."),
    # The other documented codes, on demand.
    "bad_request": ErrorAnswer(400, "bad_request", "The request was refused (emulated)."),
    "no_token": ErrorAnswer(400, "no_token", "No token was sent (emulated)."),
    "disabled": ErrorAnswer(400, "disabled", "This application is disabled (emulated)."),
    "api_not_implemented": ErrorAnswer(
        400, "api_not_implemented", "This API is not implemented (emulated)."
    ),
    "invalid_token": ErrorAnswer(401, "invalid_token", "The token is not valid (emulated)."),
    "token_expired": ErrorAnswer(401, "token_expired", "The token has expired (emulated)."),
    "token_mismatched": ErrorAnswer(
        401, "token_mismatched", "The token does not match this API (emulated)."
    ),
    "no_api": ErrorAnswer(404, "no_api", "No such API (emulated)."),
}

TASK_FAILURES: tuple[str, ...] = ("task_failed", "task_failed_text")
"""Modes that accept the request and fail the task it makes (``error`` structured / a string)."""

FAILURE_MODES: tuple[str, ...] = (
    *TASK_FAILURES,
    "slow",
    "malformed",
    "connection",
    *ERROR_ANSWERS,
)
"""Every failure mode the emulator can inject."""


def check_mode(mode: str) -> None:
    """Raise ``ValueError`` for an unknown failure mode."""
    if mode not in FAILURE_MODES:
        raise ValueError(f"unknown failure mode {mode!r}; known: {', '.join(FAILURE_MODES)}")
