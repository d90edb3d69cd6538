"""The release works: the wheel and the sdist built from the checkout, the wheel installed alone.

``python -m build`` makes the sdist and, from it, the wheel (so the sdist holds all the wheel
needs); a clean venv (``python -m venv``) gets only the wheel and what it declares, from the
registry, and runs in a folder of its own, so nothing of the checkout can be imported there. In
it run, as pasted, the README's offline quickstart (the toolkit on the emulator, then the
LangGraph ``ToolNode`` block, which calls one tool), and one song tool call, which must answer
a finished song. The wheel's metadata is checked with ``twine check --strict``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import langchain_producer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
# The README blocks that make the quickstart, found by what they do.
QUICKSTART = ("ProducerEmulator().transport", "ToolNode(toolkit.get_tools())")
SONG_CALL = """
song_tool = toolkit.get_tools(["producer_generate_music"])[0]
print("SONG " + song_tool.invoke({"prompt": "a short lo-fi song about rain"}))
import langchain_producer
print("VERSION " + langchain_producer.__version__)
"""

pytestmark = pytest.mark.dist


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out), str(ROOT)], ROOT)
    return out


def one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def quickstart() -> str:
    blocks = FENCE.findall(README.read_text(encoding="utf-8"))
    chosen = [next(b for b in blocks if marker in b) for marker in QUICKSTART]
    return "\n".join(chosen)


def test_the_readme_names_the_quickstart_blocks() -> None:
    code = quickstart()
    assert "ProducerToolkit(api_key=" in code and "app.invoke(" in code


def test_twine_finds_nothing_wrong(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files)
    out = run([sys.executable, "-m", "twine", "check", "--strict", *files], dist)
    assert out.count("PASSED") == len(files), out


def test_the_wheel_is_typed_and_carries_the_package_only(dist: Path) -> None:
    names = zipfile.ZipFile(one(dist, "*.whl")).namelist()
    assert "langchain_producer/py.typed" in names
    assert "langchain_producer/emulator/__init__.py" in names or any(
        n.startswith("langchain_producer/emulator") for n in names
    )
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"langchain_producer", *(n for n in tops if n.endswith(".dist-info"))}, tops
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(one(dist, "*.whl")).read(metadata).decode()
    assert "Classifier: Typing :: Typed" in text
    assert "License-Expression: MIT" in text
    assert "Project-URL: Repository, https://github.com/" in text
    assert "Provides-Extra: webhooks" in text


def test_the_sdist_has_the_readme_license_and_tests(dist: Path) -> None:
    sdist = one(dist, "*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    wanted_files = ("README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml", "tests/conftest.py")
    for wanted in (*wanted_files, "tests/test_dist.py", "tests/faultserver.py"):
        assert wanted in names, f"{wanted} is not in {sdist.name}"
    assert "langchain_producer/py.typed" in names


def test_the_wheel_alone_runs_the_readme_quickstart(dist: Path, tmp_path: Path) -> None:
    wheel = one(dist, "*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = str(venv / "bin" / "python")
    # Nothing of the checkout: no PYTHONPATH, and the venv runs in a folder of its own.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env |= {"PYTHONNOUSERSITE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("ACEDATACLOUD_API_TOKEN", "ACEDATACLOUD_API_BASE_URL", "PRODUCER_DEFAULT_MODEL"):
        env.pop(name, None)
    # The quickstart's graph block needs LangGraph: the `examples` extra, as the README says.
    run([python, "-m", "pip", "install", "--quiet", f"{wheel}[examples]"], tmp_path, env)
    where = run(
        [python, "-c", "import langchain_producer; print(langchain_producer.__file__)"],
        tmp_path,
        env,
    )
    assert str(venv) in where and str(ROOT) not in where, where

    script = tmp_path / "quickstart.py"
    script.write_text(quickstart() + "\n" + SONG_CALL, encoding="utf-8")
    out = run([python, str(script)], tmp_path, env)

    lines = out.splitlines()
    lyrics = json.loads(next(line for line in lines if line.startswith("{")))
    assert lyrics, out
    (song_line,) = [line for line in lines if line.startswith("SONG ")]
    song = json.loads(song_line.removeprefix("SONG "))
    assert song["state"] == "complete", song
    assert song["songs"] and all(s["audio_url"] for s in song["songs"]), song
    (version_line,) = [line for line in lines if line.startswith("VERSION ")]
    version = version_line.removeprefix("VERSION ")
    assert wheel.name.startswith(f"langchain_producer-{version}-"), (version, wheel.name)
    assert version == langchain_producer.__version__
