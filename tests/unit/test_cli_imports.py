"""The `accord` command line imports no service until a command that runs Accord: minting a
token or asking for help must not wait the seconds every service takes to import."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_command_line_imports_no_service_before_a_command_needs_one() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import json, sys, accord.cli; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    modules = json.loads(loaded)
    assert not [m for m in modules if m.startswith(("services.", "accord.embedded"))]
    assert "accord.processes" not in modules and "strawberry" not in modules
