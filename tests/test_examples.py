"""The examples run as a newcomer would run them: offline, no token, in a fresh folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import wave
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRETS = ("ACEDATACLOUD_API_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def _offline_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.pop("ACEDATACLOUD_API_BASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=cwd,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _playable(path: Path) -> float:
    with wave.open(str(path)) as audio:
        assert audio.getnchannels() >= 1 and audio.getsampwidth() == 2
        return audio.getnframes() / audio.getframerate()


def test_quickstart_runs_offline_on_the_emulator_and_leaves_playable_wavs(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "quickstart"
    # What an earlier run left: the next run replaces it.
    folder.mkdir(parents=True)
    (folder / "ABOUT.txt").write_text("an earlier run")
    (folder / "Old-Song-00000000.wav").write_bytes(b"old")
    started = time.monotonic()
    result = _run("quickstart.py", tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Running on the EMULATOR" in out
    assert "scripted" in out
    for tool in (
        "producer_generate_lyrics",
        "producer_generate_custom_music",
        "producer_generate_wav",
        "producer_stems_music",
    ):
        assert f"-> {tool}(" in out, tool
    assert "processing" in out and "complete 100%" in out  # visible progress
    assert elapsed < 60

    assert not (folder / "Old-Song-00000000.wav").exists()
    wavs = sorted(folder.rglob("*.wav"))
    names = [p.name for p in wavs]
    assert any(name.endswith("-lossless.wav") for name in names), names
    assert {"vocals.wav", "instrumental.wav"} <= set(names)
    assert all(_playable(path) > 1.0 for path in wavs)
    [stems] = folder.glob("*-stems.zip")
    assert zipfile.ZipFile(stems).testzip() is None
    assert not [p for p in folder.rglob(".*")], "no temporary files are left"
    # Safe, space-free names: nothing to quote in a shell.
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in folder.rglob("*")), names
    assert str(folder.resolve()) in out


def test_quickstart_leaves_a_folder_it_did_not_make_alone(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "quickstart"
    folder.mkdir(parents=True)
    (folder / "mine.txt").write_text("keep me")
    result = _run("quickstart.py", tmp_path)
    assert result.returncode != 0
    assert "not made by this demo" in result.stderr
    assert (folder / "mine.txt").read_text() == "keep me"


def test_make_demo_installs_only_the_examples_extra(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "demo-venv"
    plan = subprocess.run(
        [make, "-n", "demo", f"DEMO_VENV={venv}"],
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plan.returncode == 0, plan.stderr
    installs = [line for line in plan.stdout.splitlines() if "pip install" in line]
    assert installs and all(str(venv) in line for line in installs), plan.stdout
    assert any("'.[examples]'" in line for line in installs), plan.stdout
    assert "[test]" not in plan.stdout
    assert f"{venv}/bin/python examples/quickstart.py" in plan.stdout


def test_the_langgraph_example_runs_offline(tmp_path: Path) -> None:
    result = _run("langgraph_graph.py", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EMULATOR" in result.stdout
    for node in ("[ask_for_song]", "[tools]", "[ask_for_wav]", "[download]"):
        assert node in result.stdout
    wavs = sorted((tmp_path / "out" / "graph").glob("*.wav"))
    assert len(wavs) == 2 and all(_playable(path) > 1.0 for path in wavs)


def test_the_notebook_executes_without_errors(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager

    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")

    # Run the kernel on this very interpreter, whatever kernels the machine has installed.
    kernels = tmp_path / "kernels"
    spec = kernels / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    manager = KernelSpecManager(kernel_dirs=[str(kernels)])
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        kernel_manager_class=_kernel_manager(manager),
    )
    media: dict[str, httpx.Response] = {}
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if "server.stop()" in cell.source:
                # While the kernel (and the emulator's server in it) runs, every player and
                # cover shown so far must be fetchable, as a browser would fetch it.
                media = _fetch_media(notebook.cells[:index])
            client.execute_cell(cell, index)  # raises CellExecutionError on any error

    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("PREVIEW" in item for item in html)  # the running task's preview is labelled
    assert any("<audio" in item and "/media/audio/" in item for item in html)
    assert list((tmp_path / "out" / "notebook").glob("*.wav"))

    # Offline media: loopback URLs that served real files (no in-process-only host).
    assert media, "the notebook showed no player or cover"
    kinds = {url.split("/media/")[1].split("/")[0] for url in media}
    assert {"audio", "preview", "image"} <= kinds, kinds
    for url, response in media.items():
        assert url.startswith(("http://127.0.0.1:", "http://localhost:")), url
        assert response.status_code == 200, url
        expected = "image/" if "/media/image/" in url else "audio/"
        assert response.headers["content-type"].startswith(expected), url
        assert len(response.content) > 100, url


def _fetch_media(cells: list[Any]) -> dict[str, httpx.Response]:
    """GET every <audio>/<img> source in the HTML outputs of ``cells``."""
    html = [
        output["data"]["text/html"]
        for cell in cells
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    urls = {m for item in html for m in re.findall(r'<(?:audio|img)[^>]*\bsrc="([^"]+)"', item)}
    with httpx.Client(timeout=10) as http:
        return {url: http.get(url) for url in sorted(urls)}


def _kernel_manager(specs: object) -> type:
    from jupyter_client.manager import KernelManager

    class LocalKernelManager(KernelManager):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.kernel_spec_manager = specs

    return LocalKernelManager
