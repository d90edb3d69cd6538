"""The integration page ``docs/producer_toolkit.ipynb`` runs offline and shows what it says.

It follows LangChain's integration template for tools and toolkits, and it is stored with its
outputs (as integration pages are), so a reader sees them without running anything. After
editing it, refresh the stored outputs with ``python tests/test_docs.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "producer_toolkit.ipynb"
SECTIONS = [
    "# ProducerToolkit",
    "## Overview",
    "### Integration details",
    "### Tool features",
    "## Setup",
    "### Credentials",
    "## Instantiation",
    "## Invocation",
    "### Invoke directly with args",
    "### Invoke with a ToolCall",
    "## Use within an agent",
    "## API reference",
]
FEATURES = [
    "Sync and async",
    "Wait mode",
    "Journal of paid calls",
    "Spending limit",
    "Approval",
    "Offline emulator",
]
PRIVATE_ENV = ("ACEDATACLOUD_API_TOKEN", "ACEDATACLOUD_API_BASE_URL", "OPENAI_API_KEY")
SONG_URL = re.compile(r"http://producer\.emulator/media/audio/[0-9a-f-]{36}\.wav")


def execute(notebook: Any, workdir: Path) -> Any:
    """Run every cell of ``notebook`` in a kernel on this interpreter, with ``workdir`` as cwd."""
    import nbclient
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # Run the kernel on this very interpreter, whatever kernels the machine has installed.
    spec = workdir / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])

    class LocalKernelManager(KernelManager):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.kernel_spec_manager = specs

    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
        kernel_manager_class=LocalKernelManager,
    )
    return client.execute()  # raises CellExecutionError on the first cell that fails


def code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def text_of(cell: Any) -> str:
    """Everything a reader sees under a code cell, as text."""
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append(output["text"])
        parts.extend(str(value) for value in output.get("data", {}).values())
    return "".join(parts)


def cell_running(notebook: Any, snippet: str) -> Any:
    [cell] = [cell for cell in code_cells(notebook) if snippet in cell.source]
    return cell


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel inherits the environment: no token or endpoint may send it to the service."""
    for name in PRIVATE_ENV:
        monkeypatch.delenv(name, raising=False)


def test_the_page_has_the_template_sections_in_order() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    headings = [
        line.strip()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("#")
    ]
    assert [h for h in headings if h in SECTIONS] == SECTIONS, headings
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    features = markdown.split("### Tool features", 1)[1].split("## Setup", 1)[0]
    for feature in FEATURES:
        assert re.search(rf"^\| {feature} \| ✅ \|", features, re.M), feature
    reference = markdown.split("## API reference", 1)[1]
    for name in ("ProducerToolkit", "ProducerClient", "GenerateMusicTool", "GetTaskTool"):
        assert re.search(rf"`([\w.]+\.)?{name}`", reference), name


def test_the_stored_page_keeps_its_outputs_and_nothing_private() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = code_cells(notebook)
    assert cells
    assert all(cell.get("outputs") for cell in cells), "run `python tests/test_docs.py`"
    assert all(cell.execution_count for cell in cells)
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"], "warnings in the page"
    shown = "\n".join(text_of(cell) for cell in cells)
    for private in ("/work", "/tmp", "/home/", str(Path.home()), "Bearer", "sk-"):
        assert private not in shown, private


def test_the_page_runs_offline_and_shows_the_song(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    _offline(monkeypatch)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in code_cells(notebook):
        cell.outputs = []
    execute(notebook, tmp_path)

    cells = code_cells(notebook)
    for cell in cells:
        assert cell.outputs, cell.source
        errors = [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"]
        assert not errors, (cell.source, errors)

    assert "18 tools, 13 of them paid" in text_of(
        cell_running(notebook, "tools = toolkit.get_tools()")
    )
    # Invoked with args: the finished task, as the model reads it.
    direct = json.loads(text_of(cell_running(notebook, "result = generate.invoke(")))
    assert direct["state"] == "complete" and direct["billed"] is True
    assert SONG_URL.fullmatch(direct["songs"][0]["audio_url"])
    # Invoked with a ToolCall: a ToolMessage, and its typed artifact.
    shown = text_of(cell_running(notebook, "message = generate.invoke(tool_call)"))
    assert "Tool Message" in shown and "call-1" in shown and SONG_URL.search(shown)
    artifact = text_of(cell_running(notebook, "task = message.artifact"))
    assert artifact.startswith("ProducerTask complete ") and SONG_URL.search(artifact)
    lyrics = json.loads(text_of(cell_running(notebook, "ainvoke(")))
    assert lyrics["lyric"] and lyrics["billed"] is True
    # The agent: it called the tool, and its last message gives the user the song's URL.
    steps = text_of(cell_running(notebook, "create_agent("))
    assert "producer_generate_music" in steps and "call-2" in steps
    last = steps.rsplit("Ai Message", 1)[1]
    [url] = SONG_URL.findall(last)
    assert f'"audio_url":"{url}"' in steps  # the URL the tool returned, not an invented one
    spent = text_of(cell_running(notebook, "toolkit.spending()"))
    assert spent.strip() == "4 {'generate': 3, 'lyrics': 1}"
    assert not list(tmp_path.glob("out*")), "the page writes no files"


def test_a_failing_cell_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    _offline(monkeypatch)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = cell_running(notebook, "result = generate.invoke(")
    cell.source = cell.source.replace("generate.invoke(", "generate.invoke_missing(")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="invoke_missing"):
        execute(notebook, tmp_path)


def main() -> None:
    """Execute the page and store it with its fresh outputs."""
    import importlib
    import os
    import tempfile

    nbformat: Any = importlib.import_module("nbformat")
    for name in PRIVATE_ENV:
        os.environ.pop(name, None)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with tempfile.TemporaryDirectory() as workdir:
        execute(notebook, Path(workdir))
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.name} with outputs")


if __name__ == "__main__":
    main()
