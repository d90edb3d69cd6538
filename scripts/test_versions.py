"""Run the test suite on the lowest and on the newest declared versions of the dependencies.

Each run has a venv of its own (``.venv-lowest``, ``.venv-newest``, ``.venv-newest-py3.12``...),
made with uv and reused while ``pyproject.toml`` (and this script) are unchanged:

* ``lowest``: every runtime dependency (``[project] dependencies`` and the ``examples`` extra,
  which the tests need for LangGraph and ``create_agent``) is pinned to its declared floor
  (``name>=X`` becomes the constraint ``name==X``), the test tools are the newest that fit.
  Test-only packages that cannot be installed beside those floors are left out, with the tests
  that need them (``LOWEST_LEAVES_OUT``): the run says so.
* ``newest``: a plain install of ``.[test]``, the newest of everything.

Each run prints the resolved set of the runtime dependencies before pytest starts.

    python scripts/test_versions.py lowest [--python python3] [-- pytest args]
    python scripts/test_versions.py newest --python /path/to/python3.12
    python scripts/test_versions.py constraints   # print the floors as pip constraints
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
# The extras the suite needs besides the runtime dependencies: their floors are tested too.
RUNTIME_EXTRAS = ("examples",)
# Test-only packages that cannot be installed (or imported) beside the floors, and the tests
# that need them: the lowest run installs neither, and says so.
# - langchain-tests 1.1.9 requires httpx>=0.28.1 (and langchain-core>=1.4.0); the floor is 0.27.
# - mcp-producer (the vendor's MCP server) declares mcp>=1.2 but imports `mcp.types.Icon`, which
#   mcp has from 1.13 on, and every mcp from 1.13 on requires httpx>=0.27.1: beside httpx 0.27.0
#   only mcp 1.12.4 installs, and mcp-producer fails at import.
LOWEST_LEAVES_OUT = {
    "langchain-tests": ["tests/test_standard.py"],
    "mcp-producer": ["tests/test_mcp_producer.py"],
}
# The suite of `make test`, without the lint.
# `-rs`: each skipped test says why (an old dependency may lack what a test needs).
PYTEST_ARGS = [
    "-rs",
    "--allow-hosts=127.0.0.1,::1,localhost",
    "-m",
    "not postgres and not agent_server",
]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
FLOOR = re.compile(r">=\s*([0-9][0-9A-Za-z.]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = NAME.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return canonical(match[1])


def project() -> dict[str, object]:
    with PYPROJECT.open("rb") as file:
        table: dict[str, object] = tomllib.load(file)["project"]
    return table


def runtime_requirements() -> list[str]:
    """``[project] dependencies`` and the extras in ``RUNTIME_EXTRAS``, as declared."""
    table = project()
    extras = table["optional-dependencies"]
    assert isinstance(extras, dict)
    declared = table["dependencies"]
    assert isinstance(declared, list)
    requirements = [str(r) for r in declared]
    for extra in RUNTIME_EXTRAS:
        requirements += [str(r) for r in extras[extra]]
    return requirements


def test_requirements() -> list[str]:
    """The ``test`` extra, less the package itself (installed editable on its own)."""
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    own = canonical(str(project()["name"]))
    return [str(r) for r in extras["test"] if requirement_name(str(r)) != own]


def floors() -> dict[str, str]:
    """Each runtime dependency's declared lower bound: ``{"pydantic": "2.7.4", ...}``."""
    result: dict[str, str] = {}
    for requirement in runtime_requirements():
        match = FLOOR.search(requirement)
        if match is None:
            raise SystemExit(f"{requirement!r} declares no lower bound (>=): nothing to test")
        result[requirement_name(requirement)] = match[1]
    return result


def constraints_text() -> str:
    lines = ["# The declared floors of pyproject.toml, made by scripts/test_versions.py."]
    lines += [f"{name}=={version}" for name, version in floors().items()]
    return "\n".join(lines) + "\n"


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit(
            "uv is not installed: it comes with the test extra (make test installs it)"
        )
    return found


def find_python(version: str) -> tuple[str | None, list[str]]:
    """An interpreter of ``version`` on this machine, and the places looked at.

    No registry this machine reaches offers CPython: Debian 12 ships 3.11 only, PyPI has no
    interpreter package, and ``uv python install`` downloads from GitHub (unreachable). What a
    machine has is on PATH or in pyenv's folder (``$PYENV_ROOT/versions/3.12.1`` and so on),
    whose PATH shims fail unless that version is selected: each candidate is run to be sure.
    """
    candidates = [
        f"python{version}",
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
    ]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in candidates:
        try:
            if python_version(candidate) == version:
                return candidate, candidates
        except (OSError, subprocess.CalledProcessError):
            continue
    return None, candidates


def fingerprint(kind: str, python: str) -> str:
    digest = hashlib.sha256()
    digest.update(PYPROJECT.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(f"{kind} {python}".encode())
    return digest.hexdigest()


def python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def prepare(kind: str, python: str, venv: Path) -> list[str]:
    """Make (or reuse) the venv; answer the test files the run leaves out."""
    left_out = [path for paths in LOWEST_LEAVES_OUT.values() for path in paths]
    left_out = left_out if kind == "lowest" else []
    stamp = venv / ".installed"
    wanted = fingerprint(kind, python)
    if stamp.exists() and stamp.read_text() == wanted:
        print(f"== {venv.name}: reused (pyproject.toml unchanged)", flush=True)
        return left_out
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([uv(), "venv", "--quiet", "--python", python, str(venv)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    install = [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    if kind == "lowest":
        constraints = venv / "constraints-lowest.txt"
        constraints.write_text(constraints_text())
        tools = [r for r in test_requirements() if requirement_name(r) not in LOWEST_LEAVES_OUT]
        # The runtime requirements are named too, so that the floors are installed even where
        # no other requirement asks for them.
        install += ["-c", str(constraints), "-e", str(ROOT), *runtime_requirements(), *tools]
    else:
        install += ["-e", f"{ROOT}[test]"]
    subprocess.run(install, check=True, env=env, cwd=ROOT)
    stamp.write_text(wanted)
    return left_out


def resolved(venv: Path) -> dict[str, str]:
    """The installed version of each runtime dependency (and what they bring that matters)."""
    names = [*floors(), "langgraph-checkpoint", "langgraph-prebuilt", "langsmith", "pydantic-core"]
    code = (
        "import json, sys\nfrom importlib import metadata\n"
        "print(json.dumps({n: metadata.version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code, *names],
        check=True,
        capture_output=True,
        text=True,
    )
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["lowest", "newest", "constraints"])
    parser.add_argument("--python", default="python3", help="the interpreter of the venv")
    parser.add_argument(
        "--python-version", help="find an interpreter of this version (skip the run if none)"
    )
    parser.add_argument("--venv", type=Path, help="default: .venv-KIND[-pyX.Y] in the checkout")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed on to pytest")
    args = parser.parse_args()
    if args.kind == "constraints":
        print(constraints_text(), end="")
        return 0
    python: str = args.python
    if args.python_version:
        found, tried = find_python(args.python_version)
        if found is None:
            print(f"== {args.kind}, Python {args.python_version}: SKIPPED, no interpreter here")
            print(f"   tried: {', '.join(tried)}")
            return 0
        python = found
    version = python_version(python)
    default = f".venv-{args.kind}" if version == "3.11" else f".venv-{args.kind}-py{version}"
    venv: Path = args.venv or ROOT / default
    left_out = prepare(args.kind, python, venv)
    print(f"== {args.kind} dependencies, Python {version} ({venv.name}, {python}):", flush=True)
    for name, installed in resolved(venv).items():
        print(f"   {name}=={installed}", flush=True)
    for path in left_out:
        print(f"   left out: {path} (see LOWEST_LEAVES_OUT in {Path(__file__).name})")
    ignore = [f"--ignore={path}" for path in left_out]
    command = [str(venv / "bin" / "pytest"), *PYTEST_ARGS, *ignore, *args.pytest_args]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
