"""Webhooks: receive the service's callbacks, and wake the threads that parked on them.

* ``receiver``: ``create_app(store=, secret=, client=)``, the ASGI app on
  ``POST /producer/callback/{secret}`` that confirms each callback with one look-up and records
  the finished task in the store (``confirmed()`` reads it; waits that listen end on it).
* ``wake``: ``wake_parked_threads()``, the receiver's ``on_confirmed`` that starts a new run on a
  parked call's thread (``ProducerToolkit(park=True)``) with the finished song.
* ``server_store``: ``AgentServerStore``, the Agent Server's store as a ``BaseStore`` through
  langgraph-sdk, for a receiver mounted in the server (``langgraph.json`` ``"http"``).

May import: every layer below it (settings, safety, drivers, client, tools); Starlette and
langgraph-sdk only inside the functions that need them.
"""

from typing import TYPE_CHECKING, Any

from langchain_producer.webhooks.receiver import (
    CALLBACKS,
    DEFAULT_MAX_BODY,
    ROUTE,
    OnConfirmed,
    aconfirmed,
    callback_url,
    confirmed,
    create_app,
    submitted_entry,
)
from langchain_producer.webhooks.wake import WAKE_NAME, wake_message, wake_parked_threads

if TYPE_CHECKING:
    from langchain_producer.webhooks.server_store import AgentServerStore


def __getattr__(name: str) -> Any:
    # AgentServerStore subclasses LangGraph's BaseStore: imported only when asked for, so that
    # the receiver imports without LangGraph.
    if name == "AgentServerStore":
        from langchain_producer.webhooks.server_store import AgentServerStore

        return AgentServerStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CALLBACKS",
    "DEFAULT_MAX_BODY",
    "ROUTE",
    "WAKE_NAME",
    "AgentServerStore",
    "OnConfirmed",
    "aconfirmed",
    "callback_url",
    "confirmed",
    "create_app",
    "submitted_entry",
    "wake_message",
    "wake_parked_threads",
]
