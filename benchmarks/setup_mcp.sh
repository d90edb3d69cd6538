#!/usr/bin/env bash
# Creates a throwaway venv OUTSIDE the repo with the reference MCP server (PyPI: mcp-producer)
# and langchain-mcp-adapters, for `benchmarks/run.py --mcp-python <venv>/bin/python`.
# Nothing of the reference server is ever copied into this repository.
set -euo pipefail
VENV="${1:-/tmp/mcpbench}"
PYTHON="${PYTHON:-python3}"
case "$(realpath -m "$VENV")" in
  "$(realpath -m "$(dirname "$0")/..")"*) echo "refusing to create $VENV inside the repo" >&2; exit 2 ;;
esac
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet mcp-producer langchain-mcp-adapters httpx
"$VENV/bin/python" -m pip show mcp-producer langchain-mcp-adapters | grep -E '^(Name|Version):'
echo "ready: $VENV/bin/python"
