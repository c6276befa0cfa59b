"""The HTTP client of a notification log: reads a :class:`NotificationLogWSGIApp`
with urllib, within one deadline per request, following redirects only within
the origin of its base URL, and refusing responses larger than a cap."""

from __future__ import annotations

import http.client
import io
import json
import logging
import math
import socket
import time
import urllib.error
import urllib.request
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ._hosts import is_loopback, redact
from ._json import NotificationLogInterface

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger("eventsourcing.interface")

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ERROR_BODY_BYTES = 64 * 1024


class HTTPNotificationLogError(Exception):
    """Raised by :class:`HTTPNotificationLogInterface` when a request fails;
    ``status`` is the HTTP status, or ``None`` when no response arrived."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _DeadlineReader(io.RawIOBase):
    """Reads a socket, each read waiting only for what is left until a deadline."""

    def __init__(self, sock: socket.socket, raw: io.RawIOBase, deadline: float) -> None:
        self._sock = sock
        self._raw = raw
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        # A timeout of zero would make the socket non-blocking: never quite zero.
        self._sock.settimeout(max(self._deadline - time.monotonic(), 1e-6))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """A response that is read, head and body, before the deadline of its request:
    the timeout of the socket when the response begins is for all of its reads."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = time.monotonic() + cast(float, sock.gettimeout())
        self.fp = io.BufferedReader(_DeadlineReader(sock, self.fp.detach(), deadline))


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    """A connection whose request, from connecting to the end of the response,
    must be over within the ``timeout`` it was made with."""

    response_class = _DeadlineResponse

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = time.monotonic() + cast(float, self.timeout)

    def getresponse(self) -> http.client.HTTPResponse:
        """Reads the response, within what is left of the deadline."""
        self.sock.settimeout(max(self._deadline - time.monotonic(), 1e-6))
        return super().getresponse()


class _DeadlineHTTPSConnection(_DeadlineHTTPConnection, http.client.HTTPSConnection):
    """The same over TLS; the handshake is bounded by the timeout too."""


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_DeadlineHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_DeadlineHTTPSConnection, req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Leaves redirects to the client, which follows them only within its origin:
    each one is raised as an HTTPError with the response's Location."""

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> None:
        return None

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _origin(url: str) -> tuple[str, str, int] | None:
    """The scheme, host and port of an http or https URL of a host, without
    credentials in it; otherwise ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def _error_detail(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        return str(json.loads(text)["error"])[:500]
    except (ValueError, TypeError, KeyError, RecursionError):
        return text[:500]


class HTTPNotificationLogInterface(NotificationLogInterface):
    """Obtains serialised sections of a notification log from a
    :class:`NotificationLogWSGIApp` at ``base_url``, over HTTP(S).

    ``timeout`` is the deadline in seconds of each request as a whole (connecting,
    redirects, and reading the response), however slowly the server answers.
    Responses larger than ``max_response_bytes`` are refused. Redirects are
    followed only within the origin (scheme, host and port) of ``base_url``, so
    that the token is never sent anywhere else. A token sent over plain http to
    a host other than this machine is logged as a warning.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        base_url = base_url.rstrip("/")
        origin = _origin(base_url)
        if origin is None:
            msg = (
                f"Invalid base URL {redact(base_url)!r}: expected an http:// or "
                "https:// URL of a host, such as 'http://127.0.0.1:8000', with no "
                "credentials in it (give the token as token=...)"
            )
            raise ValueError(msg)
        if token is not None and not token:
            msg = "Invalid token '': give a non-empty shared secret, or None"
            raise ValueError(msg)
        if not (isinstance(timeout, int | float) and 0 < timeout < math.inf):
            msg = (
                f"Invalid timeout {timeout!r}: give the seconds that a request may "
                "take in all, such as 10.0"
            )
            raise ValueError(msg)
        if type(max_response_bytes) is not int or max_response_bytes < 1:
            msg = (
                f"Invalid max_response_bytes {max_response_bytes!r}: give the size "
                f"of the largest response to accept, such as {16 * 1024 * 1024}"
            )
            raise ValueError(msg)
        self.base_url = base_url
        self.token = token
        self.timeout = float(timeout)
        self.max_response_bytes = max_response_bytes
        self._origin = origin
        self._opener = urllib.request.build_opener(
            _HTTPHandler, _HTTPSHandler, _NoRedirects
        )
        scheme, host, _ = origin
        if token is not None and scheme == "http" and not is_loopback(host):
            logger.warning(
                "HTTPNotificationLogInterface sends its token in clear text to %s, "
                "which is not a loopback address: anyone on the way can read it, "
                "and then every event of the application. Use an https:// URL (a "
                "TLS-terminating proxy in front of the server, see the "
                "eventsourcing-interface README)",
                base_url,
            )

    def __repr__(self) -> str:
        token = None if self.token is None else "***"
        return (
            f"{type(self).__name__}({self.base_url!r}, token={token!r}, "
            f"timeout={self.timeout!r}, "
            f"max_response_bytes={self.max_response_bytes!r})"
        )

    def get_log_section(self, section_id: str) -> str:
        """Returns the JSON of a section of the remote notification log."""
        return self._get(f"/notifications/{quote(section_id, safe=',')}")

    def get_notifications(self, start: int, limit: int) -> str:
        """Returns the JSON list of notifications selected from the remote log."""
        return self._get(
            f"/notifications?{urlencode({'start': start, 'limit': limit})}"
        )

    def _get(self, path: str) -> str:
        deadline = time.monotonic() + self.timeout
        url = self.base_url + path
        for _ in range(_MAX_REDIRECTS + 1):
            request = urllib.request.Request(
                url, headers={"Accept": "application/json"}
            )
            if self.token is not None:
                # Unredirected: urllib never copies it to another request.
                request.add_unredirected_header("Authorization", f"Bearer {self.token}")
            timeout = max(deadline - time.monotonic(), 1e-6)
            try:
                with self._opener.open(request, timeout=timeout) as response:
                    return self._read(response, url)
            except urllib.error.HTTPError as error:
                with error:
                    location = error.headers.get("Location")
                    if error.code not in _REDIRECTS or location is None:
                        detail = _error_detail(error.read(_ERROR_BODY_BYTES))
                        msg = f"GET {url} failed: {error.code} {error.reason}: {detail}"
                        raise HTTPNotificationLogError(
                            msg, status=error.code
                        ) from error
                url = self._redirect(url, location, error.code)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                raise self._failure(url, error) from error
        msg = (
            f"GET {self.base_url + path} failed: more than {_MAX_REDIRECTS} "
            "redirects. Give the URL that the log is served at as base_url"
        )
        raise HTTPNotificationLogError(msg)

    def _read(self, response: Any, url: str) -> str:
        cap = self.max_response_bytes
        if (response.length or 0) > cap or len(body := response.read(cap + 1)) > cap:
            msg = (
                f"GET {url} failed: the response is larger than "
                f"max_response_bytes={cap}. Raise max_response_bytes of "
                "HTTPNotificationLogInterface if the log is genuine"
            )
            raise HTTPNotificationLogError(msg, status=response.status)
        text: str = body.decode("utf-8")
        return text

    def _redirect(self, url: str, location: str, status: int) -> str:
        try:
            target = urljoin(url, location)
        except ValueError:
            target = location
        if _origin(target) == self._origin:
            return target
        msg = (
            f"GET {url} was redirected ({status}) to {redact(target)!r}, another "
            "origin than the base URL's: refused, so that the token is never sent "
            "anywhere else. Give the URL that the log is served at as base_url"
        )
        raise HTTPNotificationLogError(msg, status=status)

    def _failure(self, url: str, error: Exception) -> HTTPNotificationLogError:
        if isinstance(getattr(error, "reason", error), TimeoutError):
            msg = (
                f"GET {url} failed: no complete response within timeout="
                f"{self.timeout} s, the deadline of the whole request. Is the "
                "server overloaded or the network slow? Raise timeout if so"
            )
        else:
            msg = f"GET {url} failed: {error}. Is the notification log server running?"
        return HTTPNotificationLogError(msg)
