"""What the tools cost a model on every turn: all tools as OpenAI tool definitions, in characters.

Each tool goes through ``langchain_core.utils.function_calling.convert_to_openai_tool`` and is
``json.dumps``'d; the lengths are summed (about 4 characters a token). Ours are measured here;
the reference MCP server's (``mcp-producer``, loaded with ``langchain-mcp-adapters``) are
measured in its own throwaway venv (``bash benchmarks/setup_mcp.sh``) when that exists, else
the figure recorded from ``mcp-producer`` 2026.10.18.4 is shown, marked as recorded.

Usage:
    python benchmarks/context.py                     # ours (both wait modes) vs the reference
    python benchmarks/context.py --per-tool          # and each tool's share
    python benchmarks/context.py --mcp-python /tmp/mcpbench/bin/python
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

REFERENCE_RECORDED = 22_918
"""mcp-producer 2026.10.18.4's 18 tools, measured the same way (issue 9)."""
BEFORE = 23_746
"""Ours before issue 9 (commit 707a23f), measured the same way."""
DEFAULT_MCP_PYTHON = "/tmp/mcpbench/bin/python"


def definition_chars(tools: list[BaseTool]) -> dict[str, int]:
    """Characters of each tool's OpenAI definition, by tool name."""
    return {tool.name: len(json.dumps(convert_to_openai_tool(tool))) for tool in tools}


def ours(**settings: Any) -> dict[str, int]:
    from langchain_producer import ProducerToolkit
    from langchain_producer.emulator import ProducerEmulator

    toolkit = ProducerToolkit(api_key="bench", transport=ProducerEmulator().transport, **settings)
    return definition_chars(toolkit.get_tools())


async def _reference_tools() -> list[BaseTool]:
    # Runs in the reference server's venv (see setup_mcp.sh), never in this repo's.
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langchain_mcp_adapters.tools import load_mcp_tools

    server = str(Path(sys.executable).with_name("mcp-producer"))
    env = dict(os.environ, ACEDATACLOUD_API_TOKEN="bench", LOG_LEVEL="WARNING")
    connection: Any = {"command": server, "args": ["--transport", "stdio"], "env": env}
    mcp = MultiServerMCPClient({"producer": {**connection, "transport": "stdio"}})
    async with mcp.session("producer") as session:
        return await load_mcp_tools(session)


def reference(mcp_python: str | None) -> tuple[dict[str, int] | None, str]:
    """The reference server's figures, measured when its venv exists; else None."""
    if not mcp_python or not Path(mcp_python).is_file():
        return None, f"recorded (no {mcp_python}: bash benchmarks/setup_mcp.sh)"
    done = subprocess.run(
        [mcp_python, __file__, "--reference-worker"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return None, f"recorded (measuring failed: {done.stderr.strip()[-200:]})"
    return json.loads(done.stdout), "measured now"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-tool", action="store_true", help="each tool's characters too")
    parser.add_argument(
        "--mcp-python",
        default=os.environ.get("PRODUCER_BENCH_MCP_PYTHON", DEFAULT_MCP_PYTHON),
        help="python of the venv made by setup_mcp.sh",
    )
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.reference_worker:
        print(json.dumps(definition_chars(asyncio.run(_reference_tools()))))
        return

    modes = {
        "langchain-producer (wait=True, the default)": ours(),
        "langchain-producer (wait=False, get_task_wait=0)": ours(wait=False, get_task_wait=0),
    }
    measured, how = reference(options.mcp_python)
    reference_total = sum(measured.values()) if measured else REFERENCE_RECORDED
    header = "tool definitions (convert_to_openai_tool, json.dumps)"
    print(f"{header:<52} {'chars':>7} {'ratio':>6}")
    for name, sizes in modes.items():
        total = sum(sizes.values())
        print(f"{name:<52} {total:>7,} {total / reference_total:>5.2f}x ({len(sizes)} tools)")
    print(f"{'langchain-producer before issue 9 (recorded)':<52} {BEFORE:>7,}")
    print(f"{'mcp-producer, ' + how:<52} {reference_total:>7,} {1:>5.2f}x")
    if options.per_tool:
        for name, size in sorted(next(iter(modes.values())).items(), key=lambda kv: -kv[1]):
            print(f"  {name:<50} {size:>7,}")


if __name__ == "__main__":
    main()
