"""Following tasks: one at a time, or up to 50 in one look-up (free)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, field_validator

from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.models import ProducerTask, TaskBatch
from langchain_producer.params import NonBlank, ToolArgs, not_blank
from langchain_producer.protocol import operations as _operations
from langchain_producer.protocol.steps import Plan
from langchain_producer.safety.journal import PlanOptions
from langchain_producer.tools._base import POLLING_GUIDE, ProducerTool
from langchain_producer.tools._content import task_content


class TaskArgs(ToolArgs):
    # A plain ``str`` field, checked by a validator rather than ``Annotated[str, NonBlank]``:
    # LangChain rebuilds an ``Annotated`` field type twice on every call of the tool (looking
    # for injected arguments), and producer_get_task is the tool an agent calls most.
    task_id: str = Field(description="A task_id (not a song id).")

    @field_validator("task_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return not_blank(value)


class TaskBatchArgs(ToolArgs):
    task_ids: Annotated[
        list[Annotated[str, NonBlank]],
        Field(
            min_length=1,
            max_length=BATCH_MAX_IDS,
            description=f"1 to {BATCH_MAX_IDS} task_ids.",
        ),
    ]


LookupMaxWait = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        description="Seconds to wait for unfinished tasks before answering (0: look once).",
    ),
]


class TaskLookupTool(ProducerTool):
    """A free look-up tool that may wait a bounded time for running tasks to end."""

    max_wait: LookupMaxWait = 30.0

    def guidance(self) -> str:
        if self.max_wait > 0:
            pacing = f"Waits up to {self.max_wait:g} s for a running task: then call again at once."
        else:
            pacing = "Answers at once: while a task runs, call again in about 15 s."
        return f"{pacing} {super().guidance()}"

    def _poll_hint(self) -> str:
        if self.max_wait > 0:
            return (
                f"this tool already waited up to {self.max_wait:g} s, so call it again "
                "right away with the same id"
            )
        return "call this tool again in about 15 seconds"


class GetTaskTool(TaskLookupTool):
    """``producer_get_task``: where a task stands, waiting briefly for it to finish."""

    name: str = "producer_get_task"
    purpose: ClassVar[str] = "A task's state, and its songs once finished."

    def guidance(self) -> str:
        return f"{super().guidance()} {POLLING_GUIDE}"

    args_schema: type[BaseModel] = TaskArgs

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[ProducerTask]:
        return _operations.wait(self.client, kwargs["task_id"], max_wait=self.max_wait)

    def content(self, artifact: ProducerTask) -> dict[str, Any]:
        return task_content(artifact, poll_hint=self._poll_hint())


class GetTasksBatchTool(TaskLookupTool):
    """``producer_get_tasks_batch``: several tasks in one look-up."""

    name: str = "producer_get_tasks_batch"
    purpose: ClassVar[str] = (
        f"Check up to {BATCH_MAX_IDS} tasks at once by task_ids (states as in producer_get_task)."
    )
    args_schema: type[BaseModel] = TaskBatchArgs

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[TaskBatch]:
        return _operations.get_tasks(self.client, kwargs["task_ids"], max_wait=self.max_wait)

    def content(self, artifact: TaskBatch) -> dict[str, Any]:
        hint = self._poll_hint().replace("same id", "same ids")
        out: dict[str, Any] = {
            "tasks": [task_content(task, poll_hint=hint) for task in artifact.tasks]
        }
        if artifact.missing:
            out["not_found"] = artifact.missing
            out["next_step"] = "No task has the ids under not_found: check them, do not poll them."
        return out


TASK_TOOLS: tuple[type[ProducerTool], ...] = (GetTaskTool, GetTasksBatchTool)
