"""The documentation builds with nitpicky references and warnings as errors.

The test reads and resolves every page with Sphinx's dummy builder, which emits
the same warnings as the HTML build (references are resolved for every builder)
in half the time, without writing pages (``hatch run docs`` writes them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-n",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "dummy",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    doctrees = {p.stem for p in (tmp_path / "doctrees").glob("*.doctree")}
    pages = {p.stem for p in DOCS.glob("*.md")}
    assert pages <= doctrees, pages - doctrees
