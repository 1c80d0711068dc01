"""Build `en_pep_voice` as an installable package: `python -m pep_nlp.build_package OUT_DIR`.

Prints the path of the sdist to install. The `spacy package` command line misreads its flags
with the typer/click versions Rasa pins, so the packaging function is called directly.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from spacy.cli.package import package

from pep_nlp.pipeline import PACKAGE_NAME, build_nlp, pipeline_version


def build(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    version = pipeline_version()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / PACKAGE_NAME
        build_nlp().to_disk(model_dir)
        package(model_dir, out_dir, create_sdist=True, force=True, silent=True)
    sdist = out_dir / f"{PACKAGE_NAME}-{version}" / "dist" / f"{PACKAGE_NAME}-{version}.tar.gz"
    if not sdist.exists():
        raise SystemExit(f"spaCy packaging did not produce {sdist}")
    return sdist


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m pep_nlp.build_package OUT_DIR")
    print(build(Path(sys.argv[1])))
