"""examples/approval.py runs as a newcomer would run it: offline, no token, in a fresh folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "approval.py"


def test_the_approval_example_asks_before_each_paid_song(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACEDATACLOUD_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.count("The agent wants to call producer_generate_music") == 3, out
    assert out.count("billed to the account if it succeeds") == 3
    assert '"type": "approve"' in out and '"type": "edit"' in out and '"type": "reject"' in out
    assert out.count("complete, billed:") == 2
    assert "rejected_by_reviewer" in out and "Two songs are enough for today." in out
    assert "Paid calls: 2 of 5 allowed" in out
    assert "Submissions the service received: 2" in out
