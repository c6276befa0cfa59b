"""The environment that configures an application, with its secrets masked in
``repr()`` and ``str()``."""

from __future__ import annotations

from typing import Any

__all__ = ["Environment", "is_secret", "mask"]

_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY", "PASSPHRASE", "CREDENTIAL")
MASK = "********"


def is_secret(name: str) -> bool:
    """Tell whether a setting holds a secret (a password, key or token), going by
    its name (``POSTGRES_PASSWORD``, ``CIPHER_KEY``, ``BANK_CIPHER_OLD_KEYS``)."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


def mask(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` whose secret values are masked."""
    return {k: MASK if is_secret(str(k)) else v for k, v in settings.items()}


class Environment(dict[str, str]):
    """The settings of an application: a plain dict, except that ``repr()`` and
    ``str()`` mask the values of secret settings, so that logging or printing the
    environment does not reveal a password or a cipher key.

    .. versionadded:: 9.1.0
    """

    def __repr__(self) -> str:
        return repr(mask(self))

    __str__ = __repr__

    def copy(self) -> Environment:
        """A shallow copy, still masking its secrets."""
        return Environment(self)
