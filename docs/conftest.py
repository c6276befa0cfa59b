"""Runs every Python example in the documentation with Sybil.

Pages run on the in-memory backend (``popo``), except those that name SQLite
files (``SQLITE_PAGES``: each in a new temporary folder) and the PostgreSQL
pages (the throwaway server of the root ``postgres_env`` fixture). Shell and text
blocks are not run; a Python block that is shown but not run is preceded by a
comment saying why.

Each page is one test item: its examples share one namespace and run in order,
so a page must never be split between pytest-xdist workers (``--dist worksteal``
splits a file's items freely). A failure names the example's line. The root
``_restore_environ`` fixture restores ``os.environ`` after each item: after each page.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Iterator
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from typing import Any

from sybil import Document, Example, Region, Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser
from sybil.sybil import SybilCollection

_module_numbers = itertools.count(1)
_SAVED = "__docs_saved__"


class _PageModule(types.ModuleType):
    """A module whose attributes are a page's namespace, so classes defined on a
    page have topics (``module:qualname``) that resolve, as they do in real code."""

    def __init__(self, name: str, namespace: dict[str, Any]) -> None:
        super().__init__(name)
        self._namespace = namespace

    def __getattr__(self, attribute: str) -> Any:
        try:
            return self._namespace[attribute]
        except KeyError:
            raise AttributeError(attribute) from None


class WholePage(Document):
    """A document presented to pytest as one example that runs all of its own."""

    def examples(self) -> Iterator[Example]:
        examples = list(super().examples())
        if not examples:
            return

        def evaluate_all(_: Example) -> None:
            __tracebackhide__ = True
            for example in examples:
                example.evaluate()

        first = examples[0]
        region = Region(first.start, examples[-1].end, None, evaluate_all)
        yield Example(self, first.line, first.column, region, self.namespace)


def setup(namespace: dict[str, Any]) -> None:
    name = f"docs_page_{next(_module_numbers)}"
    namespace["__name__"] = name
    sys.modules[name] = _PageModule(name, namespace)
    namespace[_SAVED] = (dict(os.environ), os.getcwd())


def teardown(namespace: dict[str, Any]) -> None:
    sys.modules.pop(namespace["__name__"], None)
    environ, cwd = namespace[_SAVED]
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)


def setup_in_temporary_folder(namespace: dict[str, Any]) -> None:
    """Runs the page in a new empty folder, so it can name database files freely."""
    setup(namespace)
    folder = tempfile.mkdtemp(prefix="eventsourcing-docs-")
    namespace["__docs_folder__"] = folder
    os.chdir(folder)


def teardown_temporary_folder(namespace: dict[str, Any]) -> None:
    teardown(namespace)
    shutil.rmtree(namespace["__docs_folder__"], ignore_errors=True)


def _parsers() -> list[Any]:
    return [
        PythonCodeBlockParser(doctest_optionflags=ELLIPSIS | NORMALIZE_WHITESPACE),
        SkipParser(),
    ]


SQLITE_PAGES = [
    "sqlite.md",
    "migrating.md",
    "security.md",
    "durability.md",
    "projections.md",
    "workers.md",
    "tutorial.md",
    "howto.md",
    "troubleshooting.md",
]
POSTGRES_PAGES = ["postgres.md", "walkthrough.md"]
_common: dict[str, Any] = {"document_types": {".md": WholePage}}

pytest_collect_file = SybilCollection(
    [
        Sybil(
            parsers=_parsers(),
            patterns=["*.md"],
            excludes=[*SQLITE_PAGES, *POSTGRES_PAGES],
            setup=setup,
            teardown=teardown,
            name="popo",
            **_common,
        ),
        Sybil(
            parsers=_parsers(),
            patterns=SQLITE_PAGES,
            setup=setup_in_temporary_folder,
            teardown=teardown_temporary_folder,
            name="sqlite",
            **_common,
        ),
        Sybil(
            parsers=_parsers(),
            patterns=POSTGRES_PAGES,
            setup=setup,
            teardown=teardown,
            fixtures=["postgres_env"],
            name="postgres",
            **_common,
        ),
    ]
).pytest()
