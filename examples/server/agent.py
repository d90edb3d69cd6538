"""The Producer agent for LangGraph's Agent Server (``langgraph dev`` / ``langgraph up``).

The server gives the graph its checkpointer and store, so every paid tool call is journalled in
the server's store under its thread and tool call id: a run interrupted by a crash or a redeploy
resumes its song instead of paying for it again. Nothing here configures that.

Two graphs: ``producer`` waits for each song inside its run; ``producer_parked`` ends its run as
soon as the song is accepted (``ProducerToolkit(park=True)``) and is woken by the webhook
receiver (``webhook.py``, mounted through ``langgraph.json`` ``"http"``) with a new run when the
service calls back. Parking needs ``PRODUCER_CALLBACK_BASE_URL`` (this server's public URL) and
``PRODUCER_CALLBACK_SECRET``; without them ``producer_parked`` waits like ``producer``.

The model: ``PRODUCER_AGENT_MODEL`` (e.g. ``openai:gpt-4.1``, with its package and key), else an
offline scripted model that asks for one song per user message. The service: the usual
``ACEDATACLOUD_API_TOKEN`` / ``ACEDATACLOUD_API_BASE_URL`` (the emulator's URL to stay offline).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable

from langchain_producer import ProducerToolkit
from langchain_producer.webhooks import WAKE_NAME

SYSTEM = (
    "You are a music producer. Make the song the user asks for with producer_generate_music "
    "and give them its audio_url."
)


class OneSongModel(BaseChatModel):
    """A stand-in for an LLM: one ``producer_generate_music`` call per request, then a reply; a
    wake-up message from the receiver is answered with the song it carries."""

    @property
    def _llm_type(self) -> str:
        return "one-song"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage) or (
            isinstance(last, HumanMessage) and last.name == WAKE_NAME
        ):
            # A wake-up message: two lines of text, then the task as the tools show it.
            text = str(last.content)
            result = json.loads(text if isinstance(last, ToolMessage) else text.split("\n", 2)[2])
            songs = result.get("songs") or []
            reply = (
                f"Here is your song: {songs[0]['audio_url']}"
                if songs
                else f"The song is not ready ({result.get('state')}): task {result.get('task_id')}."
            )
            message = AIMessage(reply)
        else:
            asked = next(
                (str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), ""
            )
            call = {
                "name": "producer_generate_music",
                "args": {"prompt": asked[:200] or "a short happy song"},
                "id": f"call-{uuid.uuid4().hex[:12]}",
                "type": "tool_call",
            }
            message = AIMessage("", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=message)])


def _model() -> BaseChatModel | str:
    return os.environ.get("PRODUCER_AGENT_MODEL") or OneSongModel()


toolkit = ProducerToolkit()
graph = create_agent(_model(), toolkit.get_tools(), system_prompt=SYSTEM)
# Parks when the settings (from the environment) give the service a callback URL.
parks = toolkit.producer_client.settings.callback_url is not None
parked = create_agent(
    _model(), ProducerToolkit(park=parks).get_tools(), system_prompt=SYSTEM, name="parked"
)
