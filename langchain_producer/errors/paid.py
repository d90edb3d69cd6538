"""Paid calls refused or guarded on our side: the journal, spending limits and approval.

Every one of these means nothing was submitted or billed.
"""

from __future__ import annotations

from typing import Any

from langchain_producer.errors.base import ProducerError, ProducerValidationError


class JournalError(ProducerError):
    """The journal of paid calls could not be read, so nothing was submitted (paying twice
    is the risk it guards against). Nothing was sent or billed."""

    error_code = "journal_unavailable"


class JournalConflictError(ProducerValidationError):
    """A journal key already holds a different request: nothing was submitted.

    The message names both requests; ``task_id`` is the recorded one.
    """

    error_code = "journal_key_conflict"


class SpendingLimitError(ProducerError):
    """A paid call was refused because a spending limit is reached: nothing was submitted.

    Raised by the guard of ``ProducerToolkit(max_paid_calls=...)`` (or
    ``max_paid_calls_per_thread``) before anything is sent; a tool turns it into an error
    message the model can act on.

    Attributes:
        limit: The limit that was reached (paid calls).
        scope: ``"toolkit"`` (every call through the toolkit) or ``"thread"`` (one graph thread).
        thread_id: The thread, for the per-thread limit.
    """

    error_code = "spending_limit_reached"

    def __init__(self, *, limit: int, scope: str, thread_id: str | None = None) -> None:
        self.limit = limit
        self.scope = scope
        self.thread_id = thread_id
        where = f" in thread {thread_id!r}" if scope == "thread" else ""
        super().__init__(
            f"The spending limit of {limit} paid job{'s' if limit != 1 else ''}{where} is "
            "reached; nothing was submitted or billed.",
            hint=(
                "Tell the user the spending limit is reached and nothing was submitted. Do not "
                "call paid tools again unless the user raises the limit; free tools still work."
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(limit=self.limit, scope=self.scope)
        if self.thread_id is not None:
            out["thread_id"] = self.thread_id
        return out


class SpendingStoreError(ProducerError):
    """The spending count could not be read or written in the store: nothing was submitted.

    A limit that cannot be checked is not a limit, so the paid call is refused rather than sent.
    """

    error_code = "spending_store_failed"


class PaidCallRejectedError(ProducerError):
    """The person asked to approve a paid call refused it: nothing was submitted.

    Attributes:
        reason: What the person said, if anything.
    """

    error_code = "rejected_by_reviewer"

    def __init__(self, tool: str, reason: str | None = None) -> None:
        self.reason = reason
        said = f" Their reason: {reason}" if reason else ""
        super().__init__(
            f"The person reviewing paid calls refused this {tool} call; nothing was submitted "
            f"or billed.{said}",
            hint=(
                "Tell the user it was not done and why. Do not call it again unless the user "
                "asks for it (perhaps changed as they say)."
            ),
        )


class ApprovalUnavailableError(ProducerValidationError):
    """``approve_paid_calls=True`` but the call does not run in a graph that can pause.

    Approval pauses the graph with LangGraph's ``interrupt()``, which needs a graph compiled
    with a checkpointer (``create_agent(..., checkpointer=...)``). Nothing was submitted.
    """

    error_code = "approval_unavailable"


class BalanceTooLowError(ProducerError):
    """A paid call was refused because the application's balance is below ``min_balance``:
    nothing was submitted or billed, and nothing counts against a spending limit.

    Attributes:
        remaining: The remaining amount the platform API last reported (Credits).
        min_balance: The toolkit's threshold (Credits).
    """

    error_code = "balance_too_low"

    def __init__(self, *, remaining: float, min_balance: float) -> None:
        self.remaining = remaining
        self.min_balance = min_balance
        super().__init__(
            f"The application's balance is {remaining:g} Credits, below the minimum of "
            f"{min_balance:g} set for paid calls (min_balance); nothing was submitted or billed.",
            hint=(
                "Tell the user the balance is low and that they need to top it up in the "
                "AceDataCloud console. Do not call paid tools again until they say they did; "
                "free tools still work."
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(remaining=self.remaining, min_balance=self.min_balance)
        return out


class BalanceUnknownError(ProducerError):
    """A paid call was refused because the balance could not be read (platform API down, a
    refused platform token, an unreadable answer) and the toolkit refuses paid calls without
    it (``when_balance_unknown="refuse"``, the default): nothing was submitted or billed.

    Attributes:
        reason: Why the balance could not be read.
    """

    error_code = "balance_unknown"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            "Refused because the balance could not be read, and paid calls are not sent "
            f"without it: {reason.rstrip('.')}. Nothing was submitted or billed.",
            hint=(
                "Tell the user the balance check failed and nothing was sent. Try again in a "
                "few minutes; free tools still work."
            ),
        )
