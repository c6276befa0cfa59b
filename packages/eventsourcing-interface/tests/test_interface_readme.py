"""The README's code example runs, after the eventsourcing-system README's."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

PACKAGES = Path(__file__).parent.parent.parent


def readme_code(path: Path) -> str:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)
    assert blocks
    return "\n".join(blocks)


def test_readme_example_runs() -> None:
    # A registered module, so that the topics of the example's classes resolve.
    module = types.ModuleType("interface_readme_example")
    sys.modules[module.__name__] = module
    try:
        exec(
            readme_code(PACKAGES / "eventsourcing-system" / "README.md"),
            module.__dict__,
        )
        exec(
            readme_code(PACKAGES / "eventsourcing-interface" / "README.md"),
            module.__dict__,
        )
    finally:
        del sys.modules[module.__name__]
    module.server.server_close()
    assert module.shouts.recorder.max_notification_id() == 1
