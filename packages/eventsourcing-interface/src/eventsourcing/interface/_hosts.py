"""Which hosts are this machine, and URLs fit to show in messages: the checks
behind the warnings about tokens and addresses that anyone could reach."""

from __future__ import annotations

import ipaddress
import re

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback
    interface, so that what is sent to it never crosses a network."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """Returns ``url`` with any credentials in it replaced by ``***``."""
    return _USERINFO.sub(r"\1***@", url)
