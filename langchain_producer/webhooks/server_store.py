"""The Agent Server's own store as a ``BaseStore``, reached through its public API (langgraph-sdk).

A route mounted in LangGraph's Agent Server (``langgraph.json`` ``"http": {"app": ...}``) runs
beside the graphs but is given no ``BaseStore``: the documented way in is langgraph-sdk's
``get_client()``, which inside the server talks to the server itself, in process. This class
turns those calls (``store.get_item``, ``put_item``, ``delete_item``, ``search_items``,
``list_namespaces``) back into a ``BaseStore``, so the receiver reads the journal the graphs
wrote and records what it confirmed where their waits read it: the same items, one store.

It is async only (the receiver is): ``batch`` raises ``NotImplementedError``.

Example:
    >>> store = AgentServerStore()  # in the Agent Server; or AgentServerStore(get_client(url=...))
    >>> store.supports_ttl
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

if TYPE_CHECKING:
    from langgraph_sdk.client import LangGraphClient

_K = TypeVar("_K", bound=Item)


class AgentServerStore(BaseStore):
    """The store of the Agent Server that ``client`` reaches (default: the one this code runs
    in, through ``langgraph_sdk.get_client()``).

    Args:
        client: A langgraph-sdk async client; None: ``get_client()`` on first use (in process
            inside the Agent Server).
    """

    supports_ttl: bool = True

    def __init__(self, client: LangGraphClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> LangGraphClient:
        if self._client is None:
            from langgraph_sdk import get_client

            self._client = get_client()
        return self._client

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        raise NotImplementedError(
            "AgentServerStore is async only (langgraph-sdk's async client): use its a-methods"
        )

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return [await self._one(op) for op in ops]

    async def _one(self, op: Op) -> Result:
        store = self.client.store
        if isinstance(op, GetOp):
            try:
                found = await store.get_item(
                    list(op.namespace), key=op.key, refresh_ttl=op.refresh_ttl
                )
            except httpx.HTTPStatusError as error:  # langgraph-sdk's errors are these too
                if error.response.status_code == 404:
                    return None
                raise
            return _item(Item, found) if found else None
        if isinstance(op, PutOp):
            if op.value is None:
                await store.delete_item(list(op.namespace), key=op.key)
            else:
                ttl = op.ttl if isinstance(op.ttl, int | float) else None
                await store.put_item(
                    list(op.namespace),
                    key=op.key,
                    value=op.value,
                    index=op.index,
                    ttl=None if ttl is None else max(1, round(ttl)),
                )
            return None
        if isinstance(op, SearchOp):
            searched = await store.search_items(
                list(op.namespace_prefix),
                filter=op.filter,
                limit=op.limit,
                offset=op.offset,
                query=op.query,
                refresh_ttl=op.refresh_ttl,
            )
            return [_item(SearchItem, item) for item in searched["items"]]
        if isinstance(op, ListNamespacesOp):
            prefix = suffix = None
            for condition in op.match_conditions or ():
                path = [str(label) for label in condition.path]
                if condition.match_type == "prefix":
                    prefix = path
                else:
                    suffix = path
            listed = await self.client.store.list_namespaces(
                prefix=prefix,
                suffix=suffix,
                max_depth=op.max_depth,
                limit=op.limit,
                offset=op.offset,
            )
            return [tuple(namespace) for namespace in listed["namespaces"]]
        raise TypeError(f"Unknown store operation {type(op).__name__}")


def _item(kind: type[_K], data: Any) -> _K:
    """An ``Item`` (or ``SearchItem``) from the server's JSON for one."""
    extra = {"score": data.get("score")} if kind is SearchItem else {}
    return kind(
        value=data["value"],
        key=data["key"],
        namespace=tuple(data["namespace"]),
        created_at=_time(data.get("created_at")),
        updated_at=_time(data.get("updated_at")),
        **extra,
    )


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


__all__ = ["AgentServerStore"]
