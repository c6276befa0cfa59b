"""A notification log over HTTP: a WSGI application that serves an application's
log as JSON, and a client interface that reads it with the standard library."""

from __future__ import annotations

import hmac
import json
import logging
import re
import socketserver
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIEnvironment

from ._json import NotificationLogInterface

logger = logging.getLogger(__name__)

_SECTION_ID = re.compile(r"[0-9]{1,18},[0-9]{1,18}")
_INTEGER = re.compile(r"[0-9]{1,18}")


class _HTTPError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotificationLogWSGIApp:
    """A WSGI application that serves a notification log as JSON.

    Routes (relative to where the application is mounted)::

        GET /notifications/<section_id>          a section, e.g. /notifications/1,10
        GET /notifications?start=1&limit=10      a selection of notifications

    With a ``token``, every request must carry ``Authorization: Bearer <token>``
    (401 otherwise). Malformed IDs or parameters get 400, unknown paths 404, other
    methods 405, and unexpected errors 500; error bodies are JSON
    ``{"error": "..."}`` and never contain a traceback.
    """

    def __init__(
        self,
        interface: NotificationLogInterface,
        *,
        token: str | None = None,
        max_limit: int = 1000,
    ) -> None:
        if token is not None and not token:
            msg = "Invalid token '': give a non-empty shared secret, or None"
            raise ValueError(msg)
        self.interface = interface
        self.token = token
        self.max_limit = max_limit

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        try:
            self._authorise(environ, headers)
            body = self._route(environ, headers)
            status = HTTPStatus.OK
        except _HTTPError as error:
            status = error.status
            body = json.dumps({"error": error.message})
        except Exception:
            logger.exception("Error serving notification log request")
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            body = json.dumps({"error": "Internal server error"})
        data = body.encode("utf-8")
        headers += [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
        ]
        start_response(f"{status.value} {status.phrase}", headers)
        return [data]

    def _authorise(
        self, environ: WSGIEnvironment, headers: list[tuple[str, str]]
    ) -> None:
        if self.token is None:
            return
        given = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode("utf-8"), self.token.encode("utf-8")
        ):
            headers.append(("WWW-Authenticate", 'Bearer realm="notifications"'))
            raise _HTTPError(
                HTTPStatus.UNAUTHORIZED,
                "Missing or wrong bearer token: send 'Authorization: Bearer <token>'",
            )

    def _route(self, environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> str:
        path = str(environ.get("PATH_INFO", "")) or "/"
        if path == "/notifications":
            self._require_get(environ, headers)
            query = parse_qs(
                str(environ.get("QUERY_STRING", "")), keep_blank_values=True
            )
            start = self._int_param(query, "start", default=1)
            limit = self._int_param(query, "limit", default=10)
            if limit > self.max_limit:
                raise _HTTPError(
                    HTTPStatus.BAD_REQUEST,
                    f"Invalid limit {limit}: at most {self.max_limit} notifications "
                    "can be selected at a time",
                )
            return self._call(self.interface.get_notifications, start, limit)
        if path.startswith("/notifications/") and path.count("/") == 2:
            self._require_get(environ, headers)
            section_id = unquote(path[len("/notifications/") :])
            if not _SECTION_ID.fullmatch(section_id):
                raise _HTTPError(
                    HTTPStatus.BAD_REQUEST,
                    f"Invalid section ID {section_id[:40]!r}: expected two integers "
                    'separated by a comma, such as "1,10"',
                )
            return self._call(self.interface.get_log_section, section_id)
        raise _HTTPError(
            HTTPStatus.NOT_FOUND,
            f"No such path {path[:100]!r}: use /notifications/<first>,<last> or "
            "/notifications?start=<id>&limit=<n>",
        )

    @staticmethod
    def _require_get(environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> None:
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "GET":
            headers.append(("Allow", "GET"))
            raise _HTTPError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"Method {method!r} not allowed: the notification log is read with GET",
            )

    @staticmethod
    def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
        values = query.get(name)
        if values is None:
            return default
        if len(values) != 1 or not _INTEGER.fullmatch(values[0]) or int(values[0]) < 1:
            raise _HTTPError(
                HTTPStatus.BAD_REQUEST,
                f"Invalid {name} {values[-1][:40]!r}: give one positive integer",
            )
        return int(values[0])

    @staticmethod
    def _call(method: Any, *args: Any) -> str:
        try:
            result: str = method(*args)
        except ValueError as error:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, str(error)) from error
        return result


class _QuietHandler(WSGIRequestHandler):
    # A client that stalls gives up its worker thread of the pool after this.
    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


DEFAULT_POOL_SIZE = 8


class ThreadingWSGIServer(WSGIServer):
    """The standard library's WSGI server, serving requests concurrently in a
    fixed pool of ``pool_size`` worker threads.

    Threads that live as long as the server keep their database connections (the
    datastores open one per thread), where a thread per request would open and
    close a connection for every request. :meth:`server_close` closes the socket
    and then waits for the requests that were accepted to be served.
    """

    def __init__(
        self,
        server_address: tuple[str, int],
        RequestHandlerClass: Callable[..., socketserver.BaseRequestHandler],  # noqa: N803
        bind_and_activate: bool = True,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        if pool_size < 1:
            msg = f"Invalid pool size {pool_size!r}: it must be at least 1"
            raise ValueError(msg)
        self.pool_size = pool_size
        super().__init__(server_address, RequestHandlerClass, bind_and_activate)
        self._executor = ThreadPoolExecutor(
            max_workers=pool_size, thread_name_prefix="notification-log-server"
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        """Hands the request to a worker thread of the pool."""
        self._executor.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        # As socketserver.ThreadingMixIn.process_request_thread.
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        """Closes the listening socket, then stops the worker threads once the
        requests already accepted have been served."""
        super().server_close()
        self._executor.shutdown(wait=True)


def make_notification_log_server(
    interface: NotificationLogInterface,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> ThreadingWSGIServer:
    """Returns a wsgiref server for the notification log (not yet serving: call
    ``serve_forever()``, perhaps in a thread, then ``shutdown()`` and
    ``server_close()``). Port 0 picks a free port; the chosen one is
    ``server.server_port``. Requests are served by a pool of ``pool_size``
    threads, which keep their database connections from request to request, and
    are logged at DEBUG level rather than to stderr."""
    app = NotificationLogWSGIApp(interface, token=token)
    server = ThreadingWSGIServer((host, port), _QuietHandler, pool_size=pool_size)
    server.set_app(app)
    return server


def _error_detail(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        return str(json.loads(text)["error"])
    except (ValueError, TypeError, KeyError):
        return text[:200]


class HTTPNotificationLogError(Exception):
    """Raised by :class:`HTTPNotificationLogInterface` when a request fails;
    ``status`` is the HTTP status, or ``None`` when no response arrived."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HTTPNotificationLogInterface(NotificationLogInterface):
    """Obtains serialised sections of a notification log from a
    :class:`NotificationLogWSGIApp` at ``base_url``, over HTTP(S)."""

    def __init__(
        self, base_url: str, token: str | None = None, timeout: float = 10.0
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            msg = (
                f"Invalid base URL {base_url!r}: expected an http:// or https:// URL "
                "such as 'http://127.0.0.1:8000'"
            )
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def get_log_section(self, section_id: str) -> str:
        """Returns the JSON of a section of the remote notification log."""
        return self._get(f"/notifications/{quote(section_id, safe=',')}")

    def get_notifications(self, start: int, limit: int) -> str:
        """Returns the JSON list of notifications selected from the remote log."""
        return self._get(
            f"/notifications?{urlencode({'start': start, 'limit': limit})}"
        )

    def _get(self, path: str) -> str:
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
        except urllib.error.HTTPError as error:
            with error:
                detail = _error_detail(error.read())
            msg = f"GET {url} failed: {error.code} {error.reason}: {detail}"
            raise HTTPNotificationLogError(msg, status=error.code) from error
        except (urllib.error.URLError, OSError) as error:
            msg = f"GET {url} failed: {error}. Is the notification log server running?"
            raise HTTPNotificationLogError(msg) from error
        return body.decode("utf-8")
