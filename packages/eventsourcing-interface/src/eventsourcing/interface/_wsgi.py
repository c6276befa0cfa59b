"""A WSGI application that serves an application's notification log as JSON."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote
from wsgiref.types import StartResponse, WSGIEnvironment

from ._json import NotificationLogInterface

logger = logging.getLogger("eventsourcing.interface")

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

    def __repr__(self) -> str:
        token = None if self.token is None else "***"
        return (
            f"{type(self).__name__}({self.interface!r}, token={token!r}, "
            f"max_limit={self.max_limit!r})"
        )

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
