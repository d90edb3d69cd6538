"""The kept-alive httpx clients of one ``ProducerClient``: one sync, one async per event loop.

Clients the caller injected (``http_client=``, ``http_async_client=``) are theirs: used as they
are, never closed here.
"""

from __future__ import annotations

import asyncio

import httpx

from langchain_producer.settings import ProducerSettings


class Connections:
    """Makes, keeps and closes the http clients a ``ProducerSettings`` asks for."""

    def __init__(self, settings: ProducerSettings) -> None:
        self._settings = settings
        self._own_http: httpx.Client | None = None
        self._async_by_loop: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    @property
    def http(self) -> httpx.Client:
        """The sync client: the injected one, else one made on first use."""
        injected = self._settings.http_client
        if injected is not None:
            return injected
        if self._own_http is None:
            transport = self._settings.transport
            self._own_http = httpx.Client(
                timeout=self._settings.timeout,
                transport=transport if isinstance(transport, httpx.BaseTransport) else None,
            )
        return self._own_http

    @property
    def http_async(self) -> httpx.AsyncClient:
        """The async client of the running event loop.

        An AsyncClient's connections belong to the loop that opened them, so each loop gets its
        own (LangGraph and notebooks may run tools on several loops). An injected one is used
        as it is, on every loop.
        """
        injected = self._settings.http_async_client
        if injected is not None:
            return injected
        loop = asyncio.get_running_loop()
        client = self._async_by_loop.get(loop)
        if client is None:
            for stale in [old for old in self._async_by_loop if old.is_closed()]:
                del self._async_by_loop[stale]
            transport = self._settings.transport
            client = httpx.AsyncClient(
                timeout=self._settings.timeout,
                transport=transport if isinstance(transport, httpx.AsyncBaseTransport) else None,
            )
            self._async_by_loop[loop] = client
        return client

    def close(self) -> None:
        """Close the sync client made here."""
        if self._own_http is not None:
            self._own_http.close()
            self._own_http = None

    async def aclose(self) -> None:
        """Close the async client made here for the running loop."""
        client = self._async_by_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
