"""The Python examples of the README run as written."""

from __future__ import annotations

import io
import os
import re
import unittest
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    blocks = re.findall(
        r"^( *)```python\n(.*?)^\1```$", README.read_text(), re.M | re.S
    )
    return [
        "\n".join(line.removeprefix(indent) for line in code.splitlines())
        for indent, code in blocks
    ]


def test_the_readme_has_its_two_python_examples() -> None:
    assert len(_python_blocks()) == 2


def test_configuring_the_backend_selects_it(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(_python_blocks()[0], namespace)
    assert os.environ["INFRASTRUCTURE_FACTORY"] == "jsonlines"

    from eventsourcing_jsonlines import Factory

    from eventsourcing.persistence import InfrastructureFactory

    os.environ["JSONLINES_PATH"] = str(tmp_path)  # not /var/lib in a test
    assert type(InfrastructureFactory.construct("Worlds")) is Factory


def test_the_contract_case_example_passes() -> None:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(_python_blocks()[1], namespace)
    case = namespace["TestJSONLinesApplicationRecorder"]

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)

    assert suite.countTestCases() > 5
    assert result.wasSuccessful(), result.failures + result.errors
