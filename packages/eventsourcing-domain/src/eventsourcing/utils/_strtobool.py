"""Read the usual spellings of true and false, as in environment variables."""

from __future__ import annotations

_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


def strtobool(val: str) -> bool:
    """Convert a string representation of truth to ``True`` or ``False``.

    True values are 'y', 'yes', 't', 'true', 'on' and '1'; false values are 'n',
    'no', 'f', 'false', 'off' and '0' (in any letter case). Raises ``ValueError``
    if ``val`` is anything else.
    """
    if isinstance(val, str):
        lowered = val.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    msg = (
        f"Invalid truth value {val!r}: use one of"
        " 'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', 'off', '0'"
    )
    raise ValueError(msg)
