"""The notification log over real HTTP: the WSGI application served by wsgiref in
a thread on 127.0.0.1, and the urllib client."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from uuid import uuid4
from wsgiref.simple_server import WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.interface import (
    HTTPNotificationLogError,
    HTTPNotificationLogInterface,
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    NotificationLogWSGIApp,
    make_notification_log_server,
)
from eventsourcing.system import ProcessApplication, ProcessEvent

TOKEN = "s3cret-token"


class Note(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""

    @classmethod
    def create(cls, text: str) -> Note:
        note: Note = cls._create(event_class=cls.Created, id=uuid4())
        note.write(text)
        return note

    class Created(AggregateCreated["Note"]):
        pass

    def write(self, text: str) -> None:
        self.trigger_event(self.Written, text=text)

    class Written(AggregateEvent["Note"]):
        text: str

        def apply(self, note: Note) -> None:
            note.text = self.text


class Notes(Application):
    def add(self, text: str) -> None:
        self.save(Note.create(text))


class Copier(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Note.Written):
            process_event.save(Note.create(domain_event.text.upper()))


@contextmanager
def serving(server: WSGIServer) -> Iterator[str]:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def notes() -> Notes:
    notes = Notes()
    for i in range(12):
        notes.add(f"note {i}")
    return notes


@pytest.fixture
def url(notes: Notes) -> Iterator[str]:
    server = make_notification_log_server(
        NotificationLogJSONService(notes), token=TOKEN
    )
    with serving(server) as url:
        yield url


def get(url: str, token: str | None = TOKEN, method: str = "GET") -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            status = error.code
            content_type = error.headers["Content-Type"]
            body = json.loads(error.read())
    assert content_type == "application/json; charset=utf-8"
    return status, body


def test_follower_processes_a_leader_served_over_http(notes: Notes, url: str) -> None:
    copier = Copier()
    log = NotificationLogJSONClient(HTTPNotificationLogInterface(url, token=TOKEN))
    copier.follow("Notes", log)

    copier.pull_and_process("Notes")
    notes.add("late")
    copier.pull_and_process("Notes")

    assert copier.recorder.max_tracking_id("Notes") == 26
    assert copier.recorder.max_notification_id() == 26


def test_client_reads_sections_and_selections(notes: Notes, url: str) -> None:
    log = NotificationLogJSONClient(HTTPNotificationLogInterface(url + "/", TOKEN))

    assert log["1,10"] == notes.log["1,10"]
    assert log["21,30"] == notes.log["21,30"]
    assert log.select(5, 7) == notes.log.select(5, 7)


def test_server_serves_json(url: str) -> None:
    status, section = get(url + "/notifications/1,5")
    assert status == 200
    assert section["id"] == "1,5"
    assert section["next_id"] == "6,10"
    assert [item["id"] for item in section["items"]] == [1, 2, 3, 4, 5]

    status, items = get(url + "/notifications?start=3&limit=2")
    assert status == 200
    assert [item["id"] for item in items] == [3, 4]

    status, items = get(url + "/notifications")
    assert [item["id"] for item in items] == list(range(1, 11))

    status, section = get(url + "/notifications/1%2C2")
    assert section["id"] == "1,2"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/notifications/1", "Invalid section ID '1'"),
        ("/notifications/a,b", "Invalid section ID"),
        ("/notifications/1,2,3", "Invalid section ID"),
        ("/notifications/-1,2", "Invalid section ID"),
        ("/notifications/10,1", "last notification ID is lower"),
        ("/notifications/99999999999999999999,1", "Invalid section ID"),
        ("/notifications?start=x", "Invalid start 'x'"),
        ("/notifications?start=0", "Invalid start '0'"),
        ("/notifications?start=", "Invalid start ''"),
        ("/notifications?start=1&start=2", "Invalid start"),
        ("/notifications?limit=-3", "Invalid limit '-3'"),
        ("/notifications?limit=1001", "Invalid limit 1001: at most 1000"),
    ],
)
def test_malformed_requests_get_400_with_a_json_error(
    url: str, path: str, message: str
) -> None:
    status, body = get(url + path)

    assert status == 400
    assert message in body["error"]
    assert "Traceback" not in body["error"]


@pytest.mark.parametrize(
    "path", ["/", "/notification", "/notifications/1,2/x", "/other/1,2"]
)
def test_unknown_paths_get_404(url: str, path: str) -> None:
    status, body = get(url + path)

    assert status == 404
    assert "No such path" in body["error"]


@pytest.mark.parametrize("path", ["/notifications", "/notifications/1,10"])
def test_other_methods_get_405(url: str, path: str) -> None:
    status, body = get(url + path, method="POST")

    assert status == 405
    assert "read with GET" in body["error"]


@pytest.mark.parametrize("token", [None, "wrong", "", TOKEN + "x"])
def test_requests_without_the_token_get_401(url: str, token: str | None) -> None:
    status, body = get(url + "/notifications/1,10", token=token)

    assert status == 401
    assert "bearer token" in body["error"]


def test_request_with_other_auth_scheme_gets_401(url: str) -> None:
    request = urllib.request.Request(
        url + "/notifications/1,10", headers={"Authorization": f"Basic {TOKEN}"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    with info.value as error:
        assert error.code == 401
        assert error.headers["WWW-Authenticate"].startswith("Bearer")


def test_client_raises_clear_errors_for_failed_requests(url: str) -> None:
    unauthorised = NotificationLogJSONClient(HTTPNotificationLogInterface(url))
    with pytest.raises(HTTPNotificationLogError, match="401 Unauthorized") as info:
        unauthorised["1,10"]
    assert info.value.status == 401

    client = NotificationLogJSONClient(HTTPNotificationLogInterface(url, TOKEN))
    with pytest.raises(HTTPNotificationLogError, match=r"400 .*last notification ID"):
        client["10,1"]
    with pytest.raises(HTTPNotificationLogError, match=r"400 .*Invalid start '0'"):
        client.select(0, 10)


def test_client_reports_non_json_error_bodies() -> None:
    def plain(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down for maintenance"]

    with serving(make_server("127.0.0.1", 0, plain)) as url:
        client = HTTPNotificationLogInterface(url)
        with pytest.raises(HTTPNotificationLogError, match=r"503.*down for maint"):
            client.get_log_section("1,10")


def test_client_reports_connection_failures() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HTTPNotificationLogInterface(f"http://127.0.0.1:{port}", timeout=2)

    with pytest.raises(HTTPNotificationLogError, match="server running") as info:
        client.get_notifications(1, 10)
    assert info.value.status is None


@pytest.mark.parametrize("base_url", ["127.0.0.1:80", "file:///etc/passwd", "ftp://x"])
def test_client_requires_an_http_url(base_url: str) -> None:
    with pytest.raises(ValueError, match="expected an http:// or https:// URL"):
        HTTPNotificationLogInterface(base_url)


def test_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty shared secret"):
        NotificationLogWSGIApp(NotificationLogJSONService(Notes()), token="")


class Broken(NotificationLogInterface):
    def get_log_section(self, section_id: str) -> str:
        raise RuntimeError("database is on fire")

    def get_notifications(self, start: int, limit: int) -> str:
        raise RuntimeError("database is on fire")


def call(
    app: NotificationLogWSGIApp, **environ: Any
) -> tuple[str, dict[str, str], Any]:
    response: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        response["status"] = status
        response["headers"] = dict(headers)

    environ.setdefault("wsgi.input", BytesIO())
    body = b"".join(app(environ, start_response))
    assert response["headers"]["Content-Length"] == str(len(body))
    return response["status"], response["headers"], json.loads(body)


def test_unexpected_errors_get_500_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = NotificationLogWSGIApp(Broken())

    with caplog.at_level(logging.ERROR, logger="eventsourcing.interface"):
        status, _, body = call(app, PATH_INFO="/notifications/1,10")

    assert status == "500 Internal Server Error"
    assert body == {"error": "Internal server error"}
    assert "database is on fire" in caplog.text  # Logged for the operator.


def test_wsgi_app_without_token_serves_minimal_environs() -> None:
    notes = Notes()
    notes.add("x")
    app = NotificationLogWSGIApp(NotificationLogJSONService(notes))

    status, headers, body = call(app, PATH_INFO="/notifications/1,10")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["id"] == "1,2"

    status, _, body = call(app, PATH_INFO="/notifications")
    assert [item["id"] for item in body] == [1, 2]

    status, _, _ = call(app)
    assert status == "404 Not Found"

    status, headers, _ = call(app, PATH_INFO="/notifications", REQUEST_METHOD="PUT")
    assert status == "405 Method Not Allowed"
    assert headers["Allow"] == "GET"


def test_max_limit_is_configurable() -> None:
    app = NotificationLogWSGIApp(NotificationLogJSONService(Notes()), max_limit=5)

    status, _, body = call(app, PATH_INFO="/notifications", QUERY_STRING="limit=6")

    assert status == "400 Bad Request"
    assert "at most 5" in body["error"]


def test_server_logs_requests_at_debug_level(
    notes: Notes, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="eventsourcing.interface"):
        status, _ = get(url + "/notifications/1,1")
        # The server thread logs the request after sending the response.
        deadline = time.monotonic() + 5
        while "GET /notifications/1,1" not in caplog.text:
            assert time.monotonic() < deadline
            time.sleep(0.001)

    assert status == 200


class _ThreadRecordingService(NotificationLogJSONService[Application]):
    """Records the thread that serves each request."""

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.threads: set[int] = set()

    def get_notifications(self, start: int, limit: int) -> str:
        self.threads.add(threading.get_ident())
        return super().get_notifications(start, limit)


def test_server_serves_requests_from_a_fixed_pool_of_threads(notes: Notes) -> None:
    service = _ThreadRecordingService(notes)
    server = make_notification_log_server(service, pool_size=2)
    assert server.pool_size == 2

    def fetch(url: str) -> None:
        for _ in range(5):
            status, items = get(f"{url}/notifications?start=1&limit=3", token=None)
            assert (status, len(items)) == (200, 3)

    with serving(server) as url:
        clients = [threading.Thread(target=fetch, args=(url,)) for _ in range(4)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(10)
    # 20 requests, 4 at a time, served by the same 2 threads (and so their
    # database connections), which stop when the server is closed.
    assert 1 <= len(service.threads) <= 2
    alive = {t.ident for t in threading.enumerate()}
    assert not service.threads & alive


def test_server_pool_size_must_be_positive(notes: Notes) -> None:
    with pytest.raises(ValueError, match="Invalid pool size 0: it must be at least 1"):
        make_notification_log_server(NotificationLogJSONService(notes), pool_size=0)


def test_server_reports_errors_of_handlers_and_closes_their_connections() -> None:
    from eventsourcing.interface import ThreadingWSGIServer

    errors: list[Any] = []
    handled = threading.Event()

    class Failing(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            raise RuntimeError("handler failed")

    class Server(ThreadingWSGIServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            errors.append(client_address)
            handled.set()

    server = Server(("127.0.0.1", 0), Failing)
    with (
        serving(server),
        socket.create_connection(("127.0.0.1", server.server_port)) as client,
    ):
        # Handlers are given only requests whose head has arrived.
        client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert handled.wait(5)
        client.settimeout(5)
        assert client.recv(1) == b""  # the server closed the connection
    assert len(errors) == 1
