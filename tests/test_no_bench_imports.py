"""Nothing imports bench/: it holds benchmarks, run as scripts, and may change with them.

import-linter checks the packages (pyproject.toml); tests/ and scripts/ are not packages, so
this reads their imports. A bench script is importable by its bare name once a file puts
bench/ on sys.path, so every bench module's name counts, not only `bench`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_MODULES = {"bench"} | {p.stem for p in (ROOT / "bench").glob("*.py")}


def imported_top_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_check_sees_an_import_of_a_bench_script() -> None:
    found = imported_top_names("import sys\nfrom _nlu_common import load_examples\n")
    assert found & BENCH_MODULES == {"_nlu_common"}


def test_tests_and_scripts_import_nothing_from_bench() -> None:
    files = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "scripts").rglob("*.py"))
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in files
        if (found := imported_top_names(path.read_text(encoding="utf-8")) & BENCH_MODULES)
    }
    assert offenders == {}
