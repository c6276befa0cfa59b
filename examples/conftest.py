"""Fixtures for the example tests: ``env`` configures the applications under test,
once for each installed backend (PostgreSQL included; see the root conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def env(backend_env: dict[str, str]) -> dict[str, str]:
    """Environment for the applications under test: pass it as ``env=``."""
    return backend_env
