"""The base of the contract test cases: a unittest.TestCase that pytest collects only
in concrete subclasses."""

from __future__ import annotations

from abc import ABCMeta
from typing import Any, ClassVar
from unittest import TestCase

__all__ = ["ContractTestCase"]


class ContractTestCase(TestCase, metaclass=ABCMeta):
    """Base of the abstract contract test cases.

    A class that says ``__test__ = False`` in its own body is abstract and pytest
    does not collect it, even when a test module imports it. Any subclass that does
    not say so is collected, so a backend author only subclasses and implements the
    factory method.
    """

    __test__: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True
