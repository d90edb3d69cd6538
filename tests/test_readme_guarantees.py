"""The README's "Money and errors" table names the test behind each guarantee: every file and
test function it names must exist, so a renamed or deleted test cannot leave a claim unbacked."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
SECTION = re.compile(r"^### Money and errors$(.*?)^### ", re.M | re.S)
CITED = re.compile(r"`(test_\w+\.py)(?:::(test_\w+))?`")


def missing_tests(readme: str) -> tuple[int, list[str]]:
    """How many tests the table cites, and which of them do not exist."""
    match = SECTION.search(readme)
    assert match, "README.md has no '### Money and errors' section"
    cited = CITED.findall(match.group(1))
    missing = []
    for file, name in cited:
        path = ROOT / "tests" / file
        if not path.is_file():
            missing.append(file)
        elif name and not re.search(rf"^(async )?def {name}\(", path.read_text(), re.M):
            missing.append(f"{file}::{name}")
    return len(cited), missing


def test_every_test_the_guarantee_table_cites_exists() -> None:
    count, missing = missing_tests((ROOT / "README.md").read_text(encoding="utf-8"))
    assert count >= 20, count  # the table is there and was read
    assert not missing, f"README cites tests that do not exist: {missing}"


def test_a_renamed_or_deleted_test_is_caught() -> None:
    readme = (
        "### Money and errors\n| a | `test_retry.py::test_no_such_thing` |\n"
        "| b | `test_no_such_file.py` |\n### Next\n"
    )
    assert missing_tests(readme) == (
        2,
        ["test_retry.py::test_no_such_thing", "test_no_such_file.py"],
    )
