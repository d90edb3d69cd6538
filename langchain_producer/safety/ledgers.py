"""Where spending counts live: this process's memory, and a LangGraph ``BaseStore``.

Each reservation is a ticket (one item per paid call); ``spending`` explains why that keeps a
limit exact within a process and never over-spent across processes.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import TYPE_CHECKING, Any

from langchain_producer.errors import SpendingStoreError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

NAMESPACE = ("langchain_producer", "spending")
"""Store namespace of the counts: ``NAMESPACE + ("toolkit",)`` for ``max_paid_calls`` and
``NAMESPACE + ("thread", <thread id>)`` for ``max_paid_calls_per_thread``."""
Scope = tuple[str, ...]
"""Where in ``NAMESPACE`` one limit counts: ``("toolkit",)`` or ``("thread", <label>)``."""


class MemoryLedger:
    """Counts in this process; one lock makes each reservation atomic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[Scope, set[str]] = {}

    def count(self, scope: Scope, up_to: int) -> int:
        with self._lock:
            return len(self._tickets.get(scope, ()))

    def reserve(self, scope: Scope, limit: int, ticket: str, entry: dict[str, Any]) -> bool:
        with self._lock:
            tickets = self._tickets.setdefault(scope, set())
            if len(tickets) >= limit:
                return False
            tickets.add(ticket)
            return True

    def update(self, scope: Scope, ticket: str, entry: dict[str, Any]) -> None:
        """Nothing to do: memory keeps its records in the guard."""

    def release(self, scope: Scope, ticket: str) -> None:
        with self._lock:
            self._tickets.get(scope, set()).discard(ticket)


_STORE_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_STORE_LOCKS_GUARD = threading.Lock()


def _lock_for(store: BaseStore) -> threading.Lock:
    # One lock per store object, shared by every guard in this process, so reservations made
    # here on one store never race each other (InMemoryStore is not thread-safe either).
    with _STORE_LOCKS_GUARD:
        try:
            return _STORE_LOCKS.setdefault(store, threading.Lock())
        except TypeError:  # a store that cannot be weakly referenced or hashed
            return threading.Lock()


def _store_failed(error: Exception) -> SpendingStoreError:
    return SpendingStoreError(
        f"The spending count could not be read or written in the LangGraph store "
        f"({type(error).__name__}: {error}); nothing was submitted or billed.",
        hint="Tell the user the paid call could not be checked against the spending limit; it "
        "may be tried again once the store answers.",
    )


class StoreLedger:
    """Counts in a LangGraph ``BaseStore``: one item per reservation (see the module's notes)."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store
        self._lock = _lock_for(store)

    def count(self, scope: Scope, up_to: int) -> int:
        try:
            with self._lock:
                return len(self.store.search(NAMESPACE + scope, limit=up_to))
        except Exception as error:
            raise _store_failed(error) from error

    def reserve(self, scope: Scope, limit: int, ticket: str, entry: dict[str, Any]) -> bool:
        namespace = NAMESPACE + scope
        with self._lock:
            try:
                self.store.put(namespace, ticket, entry, index=False)
                seen = len(self.store.search(namespace, limit=limit + 1))
            except Exception as error:
                with contextlib.suppress(Exception):  # a ticket left behind only counts more
                    self.store.delete(namespace, ticket)
                raise _store_failed(error) from error
            if seen > limit:
                self.store.delete(namespace, ticket)
                return False
            return True

    def update(self, scope: Scope, ticket: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.store.put(NAMESPACE + scope, ticket, entry, index=False)

    def release(self, scope: Scope, ticket: str) -> None:
        with self._lock:
            self.store.delete(NAMESPACE + scope, ticket)
