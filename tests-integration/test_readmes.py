"""Every Python example in the READMEs runs: the repository's, each distribution's
and each example's. A README's blocks run in order in one namespace, in a
temporary folder, so a later block can use what an earlier one defined."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = sorted(
    [
        ROOT / "README.md",
        *ROOT.glob("packages/*/README.md"),
        *ROOT.glob("examples/*/README.md"),
    ]
)
# The interface README continues the system README's example.
CONTINUES = {
    "eventsourcing-interface": ROOT / "packages/eventsourcing-system/README.md"
}
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


WITH_EXAMPLES = [r for r in READMES if BLOCK.search(r.read_text())]


def test_the_readmes_have_python_examples() -> None:
    assert len(WITH_EXAMPLES) >= 10


@pytest.mark.parametrize(
    "readme",
    WITH_EXAMPLES,
    ids=[str(r.parent.relative_to(ROOT)) for r in WITH_EXAMPLES],
)
def test_readme_examples_run(
    readme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # A registered module, so that topics of classes defined in a README resolve.
    module = ModuleType("readme_" + re.sub(r"\W", "_", readme.parent.name))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for source in (CONTINUES.get(readme.parent.name), readme):
        for block in BLOCK.findall(source.read_text()) if source else []:
            exec(compile(block, str(source), "exec"), module.__dict__)
    # The examples ran: what they import and define is there (and the asserts
    # they make about it held).
    assert [name for name in vars(module) if not name.startswith("__")]
