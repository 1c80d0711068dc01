"""Everything under var/ is private to the service user: directories 0700, files 0600.

Each of our processes sets umask 077 when it first reads its settings, so what it creates
(SQLite databases and their WAL files, the generated key, exports) is private from the
start; the Makefile does the same for its recipes (scripts/private-umask.sh), and so does
the engine launcher for Rasa's tracker store. `make_private` repairs a var/ made before.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def restrict_new_files() -> None:
    os.umask(PRIVATE_UMASK)


def make_private(root: Path) -> int:
    """Take group and other permissions off `root` and everything in it; how many changed."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    changed = 0
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
            changed += 1
    return changed


def loose_paths(root: Path) -> list[Path]:
    """Paths under `root` that group or others may read, write or enter."""
    return [
        p
        for p in [root, *root.rglob("*")]
        if not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
