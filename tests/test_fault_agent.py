"""A whole ``create_agent`` run over the worst cells of the fault matrix: a gzip label on plain
JSON, NaN progress, look-ups failing after the job was accepted. The run completes and the
messages the model reads carry the paid task id."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from faultserver import FaultServer
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from test_agent import CONFIG, ScriptedModel, calls

from langchain_producer import ProducerToolkit
from langchain_producer.protocol.retry import RetryPolicy

ASK = {"messages": [HumanMessage("Make me a song about rain.")]}
GENERATE = calls("producer_generate_music", {"prompt": "rain"}, "call-gen")
DONE = AIMessage("Done.")

CELLS = {
    # fault, faulty paths, look-ups before the task ends
    "gzip-lie": ("gzip_lie", ("/producer/audios", "/producer/tasks"), 2),
    "nan-progress": ("nan_progress", ("/producer/tasks",), 10**6),
    "lookups-fail-after-acceptance": ("500", ("/producer/tasks",), 2),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("cell", list(CELLS))
async def test_agent_run_over_the_worst_faults_completes_with_the_paid_task_id(
    cell: str, mode: str
) -> None:
    fault, faulty, lookups = CELLS[cell]
    server = FaultServer(fault=fault, faulty=faulty, lookups_to_finish=lookups)
    http = httpx.Client(follow_redirects=True, timeout=1.0, verify=False)
    ahttp = httpx.AsyncClient(follow_redirects=True, timeout=1.0, verify=False)
    toolkit = ProducerToolkit(
        api_key="k",
        base_url=server.base_url,
        http_client=http,
        http_async_client=ahttp,
        max_retries=1,
        poll_interval=0.01,
        max_poll_interval=0.02,
        max_wait=0.3,
    )
    toolkit.producer_client.retry_policy = RetryPolicy(max_retries=1, backoff=0.001)
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit.get_tools())
    try:
        result: dict[str, Any] = (
            agent.invoke(ASK, CONFIG) if mode == "sync" else await agent.ainvoke(ASK, CONFIG)
        )
    finally:
        server.close()
        http.close()
        await ahttp.aclose()
    assert result["messages"][-1].content == "Done.", "the run completed"
    (message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    shown = json.loads(message.content)
    (paid,) = [i for i in server.issued if i.startswith("aud-")]
    assert shown["task_id"] == paid
    assert server.count("/producer/audios") == 1
    seen_by_model = model.seen[-1]
    assert any(paid in str(m.content) for m in seen_by_model), "the model read the paid id"
    if cell == "lookups-fail-after-acceptance":
        assert message.status == "error" and shown["accepted"] is True
        assert "producer_get_task" in shown["next_step"]
    elif cell == "nan-progress":
        assert shown["state"] == "processing" and "progress_percent" not in shown
    else:
        assert shown["state"] == "complete"
