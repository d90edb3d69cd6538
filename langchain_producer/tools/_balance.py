"""The balance check joined to a paid tool's plan: right before its first request.

The first request of a paid plan is the paid one (a call the journal resumes sends none, so it
is never checked, never refused). The check runs as an effect before that request is let out:
blocking when the plan is driven synchronously, on the event loop (the client's async http
client) when asynchronously. A refusal is handed to the plan in place of the request's answer,
so the plan ends with it (and a ``before_submit`` hook's settle callable hears of it) with
nothing sent; ``paid_plan`` puts this inside the spending reservation, which therefore never
reserves a place for a refused call.
"""

from __future__ import annotations

from typing import Any, TypeVar

from langchain_producer.protocol.steps import Effect, Plan, Send
from langchain_producer.safety.balance import BalanceGuard

T = TypeVar("T")


class _Check(Effect[None]):
    def __init__(self, guard: BalanceGuard) -> None:
        self.guard = guard

    def run(self) -> None:
        self.guard.check()

    async def arun(self) -> None:
        await self.guard.acheck()


def balance_checked(plan: Plan[T], guard: BalanceGuard) -> Plan[T]:
    """``plan``, with ``guard`` checked right before its first ``Send`` (see the module)."""
    checked = False
    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = plan.throw(failure) if failure is not None else plan.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        failure = None
        if isinstance(step, Send) and not checked:
            checked = True
            try:
                yield _Check(guard)
            except GeneratorExit:
                plan.close()
                raise
            except BaseException as refused:  # the request is never let out
                failure = refused
                continue
        try:
            reply = yield step
        except GeneratorExit:
            plan.close()
            raise
        except BaseException as error:  # the driver hands a failed step back to the plan
            failure = error
