"""The platform API's application endpoint, and the Credits the emulated jobs spend.

``GET /api/v1/applications/{id}`` (with or without the trailing slash clients send), on any host
the emulator serves, with ``authorization: Bearer <platform token>``: the application as a JSON
object with the fields the vendor documents (``id``, ``service_id``, ``remaining_amount``,
``used_amount`` in Credits, ``scope``).

The costs are invented: every task that succeeds (an audios task once it reached success, a
lyrics/upload/videos/wav call at once) costs ``task_cost`` Credits (default 1), a failed one
nothing, as the vendor says it generally does not bill failed tasks. Real prices are only in the
AceDataCloud console. When nothing is left, submissions are answered 403 ``used_up``.

Where the vendor documents nothing, only what such APIs plainly do: no token is 401, a token
other than ``platform_token`` (when one is set) is 401, an unknown application id is 404, a
method other than GET is 405, errors in the emulator's usual envelope.
"""

from __future__ import annotations

import httpx

from langchain_producer.emulator.answers import error_response, json_response
from langchain_producer.emulator.state import Account, new_id

APPLICATIONS = "/api/v1/applications/"
SERVICE_ID = "producer-emulated"


def spent(account: Account) -> float:
    """Credits spent so far: ``task_cost`` for every task that succeeded by now."""
    now = account.clock()
    with account.lock:
        done = sum(1 for task in account.tasks.values() if task.phase(now) == "succeeded")
    return done * account.task_cost


def remaining(account: Account) -> float:
    """Credits left (never below 0)."""
    return max(0.0, account.credits - spent(account))


def used_up(account: Account) -> bool:
    """Whether nothing is left (asked before every submission, so cheap while plenty is)."""
    with account.lock:
        if account.credits > account.task_cost * len(account.tasks):
            return False  # more than every task could have cost: nothing to count
    return remaining(account) <= 0


def application(account: Account, request: httpx.Request, path: str) -> httpx.Response:
    """Answer ``GET /api/v1/applications/{id}[/]``."""
    application_id = path.removeprefix(APPLICATIONS).removesuffix("/")
    if request.method != "GET":
        return error_response(405, "bad_request", f"{request.method} is not allowed here.")
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return error_response(401, "no_token", "Authentication credentials were not provided.")
    if account.platform_token is not None and token != account.platform_token:
        return error_response(401, "invalid_token", "The platform token is not valid.")
    if application_id != account.application_id:
        return error_response(404, "not_found", "No such application.")
    used = spent(account)
    trace_id = new_id()
    body = {
        "id": account.application_id,
        "service_id": SERVICE_ID,
        "scope": "Global",  # the field is documented; its values are not
        "remaining_amount": max(0.0, account.credits - used),
        "used_amount": used,
    }
    return json_response(200, body, trace_id)
