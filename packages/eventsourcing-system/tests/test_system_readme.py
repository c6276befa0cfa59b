"""The README's code example runs."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def readme_code(path: Path) -> str:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)
    assert blocks
    return "\n".join(blocks)


def test_readme_example_runs() -> None:
    # A registered module, so that the topics of the example's classes resolve.
    module = types.ModuleType("system_readme_example")
    sys.modules[module.__name__] = module
    try:
        exec(readme_code(README), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    assert module.shouts.snapshots is not None  # Configured by a prefixed variable.
