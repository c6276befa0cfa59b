"""Sphinx configuration for the eventsourcing documentation.

Build with warnings as errors and nitpicky references (what the tests run):
``python -m sphinx -n -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from sphinx.pycode import ModuleAnalyzer

ROOT = Path(__file__).resolve().parent.parent

project = "eventsourcing"
author = "the eventsourcing contributors"
copyright = "the eventsourcing contributors"
release = (ROOT / "VERSION").read_text().strip()
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "conftest.py", "test_*.py"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"eventsourcing {release}"

autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
# Signatures show parameter names; annotations go into the descriptions, where
# unresolved standard-library names are listed below.
autodoc_typehints = "description"
autodoc_typehints_format = "short"

# -- Nitpicky references that cannot resolve ------------------------------------
# The build runs offline, so there is no intersphinx inventory for the standard
# library or psycopg2: references to their names cannot resolve.
_EXTERNAL_CLASSES = [
    "uuid.UUID",
    "datetime.datetime",
    "datetime.tzinfo",
    "decimal.Decimal",
    "abc.ABC",
    "abc.ABCMeta",
    "collections.abc.Callable",
    "collections.abc.Hashable",
    "collections.abc.Iterator",
    "collections.abc.Mapping",
    "collections.abc.Sequence",
    "contextlib.AbstractContextManager",
    "functools.singledispatchmethod",
    "threading.Event",
    "threading.Thread",
    "unittest.TestCase",
    "unittest.case.TestCase",
    "socketserver.ThreadingMixIn",
    "socketserver.BaseRequestHandler",
    "wsgiref.simple_server.WSGIServer",
    "sqlite3.Connection",
    "psycopg2.sql.Composable",
    "psycopg2.sql.Identifier",
]
nitpick_ignore = [
    *(("py:class", name) for name in _EXTERNAL_CLASSES),
    ("py:mod", "json"),
    ("py:mod", "sqlite3"),
    ("py:mod", "zlib"),
    ("py:data", "os.environ"),
    # Annotations imported only under TYPE_CHECKING (or written as strings)
    # cannot be evaluated by autodoc, so they arrive unqualified.
    ("py:class", "UUID"),
    ("py:class", "EventStore"),
    ("py:class", "ApplicationRecorder"),
    # Public classes report their public module, so autodoc evaluates their
    # string annotations there, where standard-library names are not imported.
    ("py:class", "datetime"),
    ("py:class", "builtins.type"),
]
nitpick_ignore_regex = [
    # Type variables and private helper types of generic signatures are not
    # documented objects.
    ("py:(class|obj)", r"(.*\.)?_?[A-Z]"),
    ("py:(class|obj)", r"(.*\.)?(_T|_F|TAggregate|TApplication|TDomainEvent)"),
    ("py:class", r"eventsourcing\.postgres\._datastore\..*"),
]
# The builtin ``type`` in annotations also matches the ``type`` attribute of every
# transcoding, which Sphinx reports as an ambiguous reference; the builtin is meant.
suppress_warnings = ["ref.python"]


# -- Attribute docstrings of published classes -----------------------------------
# Public classes report their public module (``eventsourcing.persistence``), but
# their source, with the docstrings of attributes, is in private modules beside
# it (``_transcoding.py``): let autodoc's source analysis of a public module see
# those of its private modules too.
_analyzer_for_module = ModuleAnalyzer.for_module.__func__  # type: ignore[attr-defined]


def _for_module(cls: Any, modname: str) -> Any:
    analyzer = _analyzer_for_module(cls, modname)
    if (
        not modname.startswith("eventsourcing.")
        or "._" in modname
        or getattr(analyzer, "_merged_private_modules", False)
    ):
        return analyzer
    analyzer.analyze()
    module = importlib.import_module(modname)
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if info.name.startswith("_"):
            private = _analyzer_for_module(cls, f"{modname}.{info.name}")
            private.analyze()
            analyzer.attr_docs.update(private.attr_docs)
            analyzer.annotations.update(private.annotations)
            for key in private.tagorder:
                analyzer.tagorder.setdefault(key, len(analyzer.tagorder))
    analyzer._merged_private_modules = True
    return analyzer


ModuleAnalyzer.for_module = classmethod(_for_module)  # type: ignore[assignment]
