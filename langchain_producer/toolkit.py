"""``ProducerToolkit``: every Producer tool, configured in one place, sharing one client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from langchain_producer.client import ProducerClient
from langchain_producer.errors import ProducerValidationError
from langchain_producer.tools import ALL_TOOLS, AudioTool, ProducerTool
from langchain_producer.tools.tasks import TaskLookupTool


class ProducerToolkit(BaseToolkit):
    """The 18 Producer tools for an agent, all sharing one ``ProducerClient``.

    Args:
        api_key: AceDataCloud token; defaults to ``ACEDATACLOUD_API_TOKEN``.
        base_url: Defaults to ``ACEDATACLOUD_API_BASE_URL``, else the public API.
        timeout: Per-request timeout (seconds or ``httpx.Timeout``).
        max_retries: Retries of calls that are safe to retry (see ``ProducerClient``).
        wait: True (default): the song tools wait and return finished songs, one call per
            song. False: they return the task id at once, to follow with ``producer_get_task``.
        max_wait: Seconds a song tool waits before handing back the running task.
        get_task_wait: Seconds ``producer_get_task`` / ``producer_get_tasks_batch`` wait for a
            task to finish before answering (0: look once).
        poll_interval: First pause between two checks of a task; it grows from there.
        max_poll_interval: The longest pause between two checks.
        default_model: Model used when the agent names none (``PRODUCER_DEFAULT_MODEL``, else
            ``FUZZ-2.0``).
        callback_url: Webhook for finished audio tasks. Deliberately not a tool argument: a
            manipulated model must not be able to send results elsewhere.
        transport: An httpx transport for the client (e.g. ``ProducerEmulator().transport``).
        http_client: A ready ``httpx.Client``.
        http_async_client: A ready ``httpx.AsyncClient``.
        client: A ready ``ProducerClient``; the connection settings above must then be unset.

    Examples:
        >>> from langchain_producer import ProducerToolkit
        >>> from langchain_producer.emulator import ProducerEmulator
        >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport)
        >>> [tool.name for tool in toolkit.get_tools(billable=False)][:2]
        ['producer_get_task', 'producer_get_tasks_batch']
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float | httpx.Timeout | None = Field(default=None, repr=False)
    max_retries: int = Field(default=3, ge=0)
    wait: bool = True
    max_wait: float = Field(default=600.0, gt=0)
    get_task_wait: float = Field(default=30.0, ge=0)
    poll_interval: float = Field(default=2.0, gt=0)
    max_poll_interval: float = Field(default=15.0, gt=0)
    default_model: str | None = None
    callback_url: str | None = None
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = Field(
        default=None, exclude=True, repr=False
    )
    http_client: httpx.Client | None = Field(default=None, exclude=True, repr=False)
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True, repr=False)
    client: ProducerClient | None = Field(default=None, exclude=True, repr=False)

    _client: ProducerClient = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        if self.client is not None:
            connection = ("api_key", "base_url", "transport", "http_client", "http_async_client")
            clashing = [name for name in connection if getattr(self, name) is not None]
            if clashing:
                raise ProducerValidationError(
                    f"Pass either client= or connection settings, not both: {clashing}.",
                    hint="Configure the ProducerClient itself, or drop client=.",
                )
            self._client = self.client
            return
        self._client = ProducerClient(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_model=self.default_model,
            callback_url=self.callback_url,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            transport=self.transport,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
        )

    @property
    def producer_client(self) -> ProducerClient:
        """The client all tools share (for notebooks and plain LangGraph nodes)."""
        return self._client

    def get_tools(
        self, names: Iterable[str] | None = None, *, billable: bool | None = None
    ) -> list[BaseTool]:
        """The tools, all on one client.

        Args:
            names: Only these tools (by name), in the toolkit's order.
            billable: True: only the paid tools; False: only the free ones (task look-ups and
                reference); None: both.

        Raises:
            ProducerValidationError: A name is not one of the 18 tools.
        """
        wanted = set(names) if names is not None else None
        known = {cls.model_fields["name"].default for cls in ALL_TOOLS}
        if wanted is not None and not wanted <= known:
            raise ProducerValidationError(
                f"Unknown tool name(s): {sorted(wanted - known)}.",
                hint=f"Choose from: {', '.join(sorted(known))}.",
            )
        tools: list[BaseTool] = []
        for cls in ALL_TOOLS:
            if wanted is not None and cls.model_fields["name"].default not in wanted:
                continue
            if billable is not None and cls.billable != billable:
                continue
            tools.append(self._make(cls))
        return tools

    def _make(self, cls: type[ProducerTool]) -> ProducerTool:
        settings: dict[str, Any] = {"client": self._client}
        if issubclass(cls, AudioTool):
            settings.update(wait=self.wait, max_wait=self.max_wait)
        elif issubclass(cls, TaskLookupTool):
            settings.update(max_wait=self.get_task_wait)
        return cls(**settings)
