"""Everything under var/ is private to the service user, whoever creates it first."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.private_files import loose_paths, make_private
from bot.settings import REPO_ROOT


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_make_private_repairs_a_var_made_before(tmp_path: Path) -> None:
    var = tmp_path / "var"
    (var / "build" / "spacy").mkdir(parents=True)
    (var / "build" / "spacy" / "meta.json").write_text("{}")
    (var / "pepvoice.db").write_text("")
    for path in (var, var / "build", var / "build" / "spacy"):
        path.chmod(0o755)
    (var / "pepvoice.db").chmod(0o644)
    (var / "build" / "spacy" / "meta.json").chmod(0o664)
    assert len(loose_paths(var)) == 5
    assert make_private(var) == 5
    assert loose_paths(var) == []
    assert _mode(var) == 0o700 and _mode(var / "pepvoice.db") == 0o600
    assert make_private(var) == 0


def test_a_fresh_var_made_by_the_app_is_private(tmp_path: Path) -> None:
    """What `make run` does first (migrate, seed the demo) in a process with a lax umask."""
    var = tmp_path / "var"
    env = {
        "PATH": os.environ["PATH"],
        "VAR_DIR": str(var),
        "ENVIRONMENT": "development",
        "APP_BASE_URL": "http://127.0.0.1:8000",
    }
    for command in (["migrate"], ["seed-demo"]):
        subprocess.run(
            ["sh", "-c", 'umask 022; exec "$0" -m bot "$@"', sys.executable, *command],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    made = {p.name for p in var.iterdir()}
    assert {"pepvoice.db", "secret_key", "demo-invite", "demo-link"} <= made
    assert loose_paths(var) == []


def test_the_repo_var_left_by_make_is_private() -> None:
    """`make setup`/`make train` (the spaCy build, logs, npm's axe-core) run with umask 077."""
    var = REPO_ROOT / "var"
    if not var.exists():
        pytest.skip("no var/ yet: no make target has run in this checkout")
    assert loose_paths(var) == [], "run `python -m bot migrate` to repair an old var/"
