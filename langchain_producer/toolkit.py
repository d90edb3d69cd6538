"""``ProducerToolkit``: every Producer tool, configured in one place, sharing one client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from langchain_producer.client import ProducerClient
from langchain_producer.errors import ProducerValidationError
from langchain_producer.safety.approval import interrupt_on
from langchain_producer.safety.balance import BalanceGuard, WhenUnknown, check_min_balance
from langchain_producer.safety.journal import TaskJournal
from langchain_producer.safety.spending import Spending, SpendingGuard, check_limit
from langchain_producer.settings import ProducerSettings, invalid_settings
from langchain_producer.tools import ALL_TOOLS, AudioTool, ProducerTool
from langchain_producer.tools.audio import Park, SongMaxWait, Wait
from langchain_producer.tools.tasks import LookupMaxWait, TaskLookupTool

_CLIENT_SETTINGS = frozenset(ProducerSettings.model_fields)


class ProducerToolkit(BaseToolkit):
    """The 18 Producer tools for an agent, all sharing one ``ProducerClient``.

    Every ``ProducerSettings`` field is a keyword here too (``api_key``, ``base_url``,
    ``timeout``, ``max_retries``, ``poll_interval``, ``max_poll_interval``, ``default_model``,
    ``callback_url`` or ``callback_base_url`` with ``callback_secret``, ``store``, ``transport``,
    ``http_client``, ``http_async_client``): they configure
    the shared client. Or pass ``settings=ProducerSettings(...)``, or a ready ``client=``
    (then no client setting may be given). The other keywords shape the tools:

    Args:
        wait: True (default): the song tools wait and return finished songs, one call per
            song. False: they return the task id at once, to follow with ``producer_get_task``.
        max_wait: Seconds a song tool waits before handing back the running task.
        park: True: the song tools return as soon as the job is accepted and the run ends (its
            worker is free); when the task ends, the webhook receiver wakes the thread with a
            new run carrying the song (``langchain_producer.webhooks.wake_parked_threads``).
            Needs a callback URL (``callback_base_url`` and ``callback_secret``, or
            ``callback_url``) and a graph with a store.
        get_task_wait: Seconds ``producer_get_task`` / ``producer_get_tasks_batch`` wait for a
            task to finish before answering (0: look once).
        max_paid_calls: The most paid calls (accepted submissions) the toolkit's tools may make
            in all; past it a paid tool sends nothing and tells the model the limit is reached.
            None (default): no limit; 0: no paid calls (the free tools still work). Counted in
            the graph's store when there is one, so the count survives restarts and is shared
            by every process on that store (see ``langchain_producer.spending``).
        max_paid_calls_per_thread: The same, per LangGraph thread (one conversation).
        approve_paid_calls: Before each paid call, pause the graph with LangGraph's
            ``interrupt()`` until a person approves, edits or rejects it (see
            ``langchain_producer.approval``). Needs a graph with a checkpointer.
        min_balance: Credits the application must have left for a paid call to be sent; below
            it the call sends nothing, counts nothing, and the model reads ``balance_too_low``.
            Needs the ``platform_token`` and ``application_id`` settings. None (default): no
            check.
        balance_check_interval: Seconds a balance reading is reused by every tool of the
            toolkit (default 30; 0: read before every paid call).
        when_balance_unknown: When the balance cannot be read (platform API down, token
            refused): ``"refuse"`` (default; the model reads ``balance_unknown``) or
            ``"proceed"`` (sent anyway, with a warning logged).

    Raises:
        ProducerValidationError: An unknown keyword, a bad value, or ``client=`` together
            with client settings.

    Examples:
        >>> from langchain_producer import ProducerToolkit
        >>> from langchain_producer.emulator import ProducerEmulator
        >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport)
        >>> [tool.name for tool in toolkit.get_tools(billable=False)][:2]
        ['producer_get_task', 'producer_get_tasks_batch']
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    # Tool settings: declared on the tools, with the tools' defaults (see ``_make``).
    wait: Wait = AudioTool.model_fields["wait"].default
    max_wait: SongMaxWait = AudioTool.model_fields["max_wait"].default
    park: Park = AudioTool.model_fields["park"].default
    get_task_wait: LookupMaxWait = TaskLookupTool.model_fields["max_wait"].default
    approve_paid_calls: bool = ProducerTool.model_fields["approve_paid_calls"].default

    # Spending settings: enforced by the toolkit's one SpendingGuard, shared by its paid tools.
    max_paid_calls: int | None = None
    max_paid_calls_per_thread: int | None = None

    # Balance settings: one BalanceGuard, shared by the paid tools (``safety.balance``).
    min_balance: float | None = None
    balance_check_interval: float = Field(default=30.0, ge=0, allow_inf_nan=False)
    when_balance_unknown: WhenUnknown = "refuse"

    settings: ProducerSettings
    """The shared client's settings (shown in the repr and dumps, the key masked)."""
    client: ProducerClient = Field(exclude=True, repr=False)
    """The client every tool shares."""

    _guard: SpendingGuard = PrivateAttr()
    _balance: BalanceGuard | None = PrivateAttr(default=None)

    def __init__(self, **values: Any) -> None:
        # Client settings are ProducerSettings' own fields: nothing to mirror or forward here.
        given = {key: values.pop(key) for key in list(values) if key in _CLIENT_SETTINGS}
        client, settings = values.pop("client", None), values.pop("settings", None)
        if client is None:
            if settings is not None and not isinstance(settings, ProducerSettings):
                raise ProducerValidationError(
                    f"settings= takes a ProducerSettings, not {type(settings).__name__}."
                )
            client = ProducerClient(settings, **given)
        elif settings is not None or any(value is not None for value in given.values()):
            clashing = sorted(key for key, value in given.items() if value is not None)
            raise ProducerValidationError(
                f"Pass either client= or client settings, not both: {clashing or ['settings']}.",
                hint="Configure the ProducerClient itself, or drop client=.",
            )
        try:
            super().__init__(**values, client=client, settings=client.settings)
        except ValidationError as error:
            raise invalid_settings(
                error, known=_CLIENT_SETTINGS | set(type(self).model_fields)
            ) from None

    @field_validator("max_paid_calls", "max_paid_calls_per_thread", mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: ValidationInfo) -> Any:
        try:
            return check_limit(value, info.field_name or "limit")
        except ProducerValidationError as error:  # reported with the other settings' errors
            raise ValueError(error.message.removesuffix(".")) from None

    @field_validator("min_balance", mode="before")
    @classmethod
    def _credits(cls, value: Any) -> Any:
        return check_min_balance(value)

    @model_validator(mode="after")
    def _parking_wakes(self) -> Self:
        if self.park and self.client.settings.callback_url is None:
            raise ValueError(
                "park=True needs a callback URL for the service to call back: set "
                "callback_base_url and callback_secret (or PRODUCER_CALLBACK_BASE_URL and "
                "PRODUCER_CALLBACK_SECRET), or callback_url"
            )
        return self

    @model_validator(mode="after")
    def _balance_readable(self) -> Self:
        settings = self.client.settings
        if self.min_balance is not None and not (
            settings.platform_token and settings.application_id
        ):
            raise ValueError(
                "min_balance needs the platform_token and application_id settings (or "
                "ACEDATACLOUD_PLATFORM_TOKEN and ACEDATACLOUD_APPLICATION_ID) to read the balance"
            )
        return self

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        self._guard = SpendingGuard(
            max_paid_calls=self.max_paid_calls,
            max_paid_calls_per_thread=self.max_paid_calls_per_thread,
        )
        if self.min_balance is not None:
            client = self.client

            async def aremaining() -> float:
                return (await client.abalance()).remaining

            self._balance = BalanceGuard(
                min_balance=self.min_balance,
                read=lambda: client.balance().remaining,
                aread=aremaining,
                interval=self.balance_check_interval,
                when_unknown=self.when_balance_unknown,
            )

    @property
    def producer_client(self) -> ProducerClient:
        """The client all tools share (for notebooks and plain LangGraph nodes)."""
        return self.client

    def spending(self) -> Spending:
        """What the toolkit's paid tools spent in this process: accepted calls by action with
        their task ids, calls of unknown outcome, and what the limit still allows.

        Examples:
            >>> from langchain_producer.emulator import ProducerEmulator
            >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport)
            >>> toolkit.spending().paid_calls
            0
        """
        return self._guard.spending()

    def interrupt_on(self) -> dict[str, Any]:
        """The ``interrupt_on`` mapping of LangChain's ``HumanInTheLoopMiddleware`` for exactly
        the billable tools, each with a review text saying what will be billed.

        Examples:
            >>> from langchain_producer.emulator import ProducerEmulator
            >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport)
            >>> "producer_generate_music" in toolkit.interrupt_on()
            True
            >>> "producer_get_task" in toolkit.interrupt_on()
            False
        """
        return interrupt_on(self.get_tools(billable=True))

    @property
    def journal(self) -> TaskJournal | None:
        """The journal of paid calls in the ``store`` setting (None without one).

        Examples:
            >>> from langgraph.store.memory import InMemoryStore
            >>> from langchain_producer.emulator import ProducerEmulator
            >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport,
            ...                           store=InMemoryStore())
            >>> toolkit.journal.list("thread-1")
            []
        """
        return self.client.journal

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
        # A new tool setting: a field on the tool, the same field here, one line below.
        settings: dict[str, Any] = {"client": self.client}
        if issubclass(cls, AudioTool):
            settings.update(wait=self.wait, max_wait=self.max_wait, park=self.park)
        elif issubclass(cls, TaskLookupTool):
            # The look-up tools tell the guard how paid tasks ended (billed or not).
            settings.update(max_wait=self.get_task_wait, spending_guard=self._guard)
        if cls.billable:
            settings.update(
                spending_guard=self._guard,
                balance_guard=self._balance,
                approve_paid_calls=self.approve_paid_calls,
            )
        return cls(**settings)
