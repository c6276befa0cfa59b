"""Attacks on the notification log over HTTP, made as an attacker would make them:
real sockets and threads on 127.0.0.1. Each is refused, and the victim (the
server, the client, the follower) is left as it was."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any
from uuid import uuid4
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated
from eventsourcing.interface import (
    HTTPNotificationLogError,
    HTTPNotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    NotificationLogWSGIApp,
    ThreadingWSGIServer,
    make_notification_log_server,
)
from eventsourcing.system import NotificationLogError, ProcessApplication, ProcessEvent

TOKEN = "s3cret-token-1234"
FORGED = 10**15


class Item(Aggregate):
    @classmethod
    def create(cls) -> Item:
        item: Item = cls._create(event_class=cls.Created, id=uuid4())
        return item

    class Created(AggregateCreated["Item"]):
        pass


class Items(Application):
    def add(self, count: int) -> None:
        for _ in range(count):
            self.save(Item.create())


class Copier(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        process_event.save(Item.create())


@pytest.fixture
def items() -> Items:
    items = Items()
    items.add(10)
    return items


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


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi(app: WSGIApplication) -> Iterator[str]:
    """Serves a WSGI app of the test's own, one request at a time."""
    with serving(make_server("127.0.0.1", 0, app, handler_class=_Quiet)) as url:
        yield url


@contextmanager
def raw(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """Serves each connection with ``handle``, which speaks bytes, not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.01)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                with suppress(OSError):  # the client went away
                    handle(connection)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def connect(url: str) -> socket.socket:
    port = int(url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


@contextmanager
def connections(url: str, count: int) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        yield [stack.enter_context(connect(url)) for _ in range(count)]


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_and_error(response: bytes) -> tuple[str, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)["error"]


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def section_ids(url: str, token: str | None = TOKEN) -> list[int]:
    client = NotificationLogJSONClient(HTTPNotificationLogInterface(url, token, 2))
    return [n.id for n in client["1,10"].items]


# 1. Slow and greedy clients.

REQUEST = f"GET /notifications/1,10 HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n"


def test_trickling_clients_do_not_starve_a_normal_client(items: Items) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), token=TOKEN, pool_size=2, header_timeout=5
    )
    started = time.monotonic()
    # Four times as many as there are worker threads, a byte at a time.
    with serving(server) as url, connections(url, 8) as tricklers:
        for byte in REQUEST.encode()[:4]:
            for trickler in tricklers:
                trickler.sendall(bytes([byte]))
            time.sleep(0.05)

        served = time.monotonic()
        assert section_ids(url) == list(range(1, 11))
        # Starved, it would wait until the tricklers are cut off, near 5 s.
        assert time.monotonic() - served < 2.5
        for trickler in tricklers:  # still connected, and not answered yet
            trickler.setblocking(False)
            with pytest.raises(BlockingIOError):
                trickler.recv(1)
            trickler.settimeout(5)

        # The tricklers are cut off at their deadline, and told why.
        for trickler in tricklers:
            with trickler:
                status, error = status_and_error(read_to_end(trickler))
            assert status == "HTTP/1.0 408 Request Timeout"
            assert "header_timeout=5.0 s" in error
        assert 5 <= time.monotonic() - started < 8
        assert section_ids(url) == list(range(1, 11))


def test_a_burst_of_connections_is_accepted_without_delay(items: Items) -> None:
    # They wait in the listening socket's queue until the server accepts them.
    server = make_notification_log_server(NotificationLogJSONService(items))
    url = f"http://127.0.0.1:{server.server_port}"
    started = time.monotonic()
    try:
        with connections(url, 50) as burst:
            # Not a SYN retry (1 s) late: the queue held them all.
            assert time.monotonic() - started < 0.9

            with serving(server):
                for connection in burst:
                    connection.sendall(b"GET /notifications/1,1 HTTP/1.0\r\n\r\n")
                    assert read_to_end(connection).startswith(b"HTTP/1.0 200 OK")
    finally:
        server.server_close()


@pytest.mark.parametrize("pause", [0, 0.2])
def test_a_request_head_larger_than_max_header_bytes_gets_431(
    items: Items, pause: float
) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), max_header_bytes=1024
    )
    with serving(server) as url, connect(url) as attacker:
        attacker.sendall(b"GET /notifications/1,10 HTTP/1.1\r\n")
        time.sleep(pause)
        attacker.sendall(b"X-Padding: " + b"a" * 2000 + b"\r\n\r\n")

        status, error = status_and_error(read_to_end(attacker))

        assert status == "HTTP/1.0 431 Request Header Fields Too Large"
        assert "max_header_bytes=1024" in error
        assert section_ids(url, token=None) == list(range(1, 11))


def test_connections_beyond_max_connections_are_closed_at_once(
    items: Items, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), max_connections=3, header_timeout=5
    )
    with (
        serving(server) as url,
        caplog.at_level(logging.WARNING),
        connections(url, 3) as idle,
    ):
        for _ in range(2):
            started = time.monotonic()
            with connect(url) as refused:
                status, error = status_and_error(read_to_end(refused))
            # Not after header_timeout (5 s).
            assert time.monotonic() - started < 2.5
            assert status == "HTTP/1.0 503 Service Unavailable"
            assert "max_connections=3" in error
        # Once per spell of refusals.
        assert caplog.text.count("refuses new connections") == 1

        # Closing the idle connections frees their places.
        for connection in idle:
            connection.close()
        eventually(lambda: server.open_connections == 0)
        assert section_ids(url, token=None) == list(range(1, 11))


def test_refusals_warn_again_after_connections_were_accepted(
    items: Items, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), max_connections=1
    )
    with serving(server) as url, caplog.at_level(logging.WARNING):
        for _ in range(2):
            with connect(url) as idle:
                idle.sendall(b"GET")
                eventually(lambda: server.open_connections == 1)
                with connect(url) as refused:
                    assert read_to_end(refused).startswith(b"HTTP/1.0 503")
            eventually(lambda: server.open_connections == 0)

    assert caplog.text.count("refuses new connections") == 2


@pytest.mark.parametrize("reset", [False, True])
def test_a_client_that_gives_up_midway_frees_its_place(
    items: Items, reset: bool
) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), max_connections=1
    )
    with serving(server) as url:
        quitter = connect(url)
        quitter.sendall(b"GET /notif")
        eventually(lambda: server.open_connections == 1)
        if reset:
            quitter.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        quitter.close()

        eventually(lambda: server.open_connections == 0)
        assert section_ids(url, token=None) == list(range(1, 11))


def test_server_close_closes_connections_still_sending_their_heads(
    items: Items,
) -> None:
    server = make_notification_log_server(NotificationLogJSONService(items))
    with serving(server) as url:
        slow = connect(url)
        slow.sendall(b"GET /notifications/1,10 HTTP/1.1\r\n")
        eventually(lambda: server.open_connections == 1)
        started = time.monotonic()
    with slow:
        assert read_to_end(slow) == b""
    # Not after header_timeout (5 s).
    assert time.monotonic() - started < 4
    server.server_close()  # again: nothing left to do


def test_requests_whose_heads_arrived_before_serving_are_served(
    items: Items,
) -> None:
    # Connections that waited in the listening socket's queue: their requests
    # are complete, too large, or abandoned when they are accepted.
    server = make_notification_log_server(
        NotificationLogJSONService(items), max_header_bytes=100
    )
    url = f"http://127.0.0.1:{server.server_port}"
    complete, too_large, abandoned = connect(url), connect(url), connect(url)
    complete.sendall(b"GET /notifications/1,1 HTTP/1.0\r\n\r\n")
    too_large.sendall(b"GET /" + b"a" * 200)
    abandoned.shutdown(socket.SHUT_WR)

    with serving(server):
        with complete:
            assert read_to_end(complete).startswith(b"HTTP/1.0 200 OK")
        with too_large:
            assert read_to_end(too_large).startswith(b"HTTP/1.0 431")
        with abandoned:
            assert read_to_end(abandoned) == b""
        eventually(lambda: server.open_connections == 0)


def test_handlers_read_the_request_however_it_arrived() -> None:
    class Echo(socketserver.StreamRequestHandler):
        wbufsize = 8192  # a buffered file for the response, too

        def handle(self) -> None:
            head = b"".join(iter(self.rfile.readline, b"\r\n"))
            self.wfile.write(head + b"|" + self.rfile.read(5))

    server = ThreadingWSGIServer(("127.0.0.1", 0), Echo)
    with serving(server) as url, connect(url) as client:
        client.sendall(b"POST / HTTP/1.0\r\nContent-")
        time.sleep(0.1)
        client.sendall(b"Length: 5\r\n\r\nhel")
        time.sleep(0.1)
        client.sendall(b"lo")

        echo = read_to_end(client)

    assert echo == b"POST / HTTP/1.0\r\nContent-Length: 5\r\n|hello"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("header_timeout", 0, "Invalid header_timeout 0"),
        ("header_timeout", -1.5, "Invalid header_timeout -1.5"),
        ("header_timeout", float("inf"), "Invalid header_timeout inf"),
        ("header_timeout", float("nan"), "Invalid header_timeout nan"),
        ("header_timeout", "5", "Invalid header_timeout '5'"),
        ("max_connections", 0, "Invalid max_connections 0: it must be at least 1"),
        ("max_connections", 2.5, "Invalid max_connections 2.5"),
        ("max_header_bytes", 0, "Invalid max_header_bytes 0"),
    ],
)
def test_server_settings_are_checked(setting: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_notification_log_server(
            NotificationLogJSONService(Items()), **{setting: value}
        )


# 2. Tokens are not given away, and exposure is warned about.


@pytest.mark.parametrize(
    ("host", "token", "warns"),
    [("0.0.0.0", None, True), ("0.0.0.0", TOKEN, False), ("127.0.0.1", None, False)],
)
def test_serving_without_a_token_beyond_loopback_warns(
    caplog: pytest.LogCaptureFixture, host: str, token: str | None, warns: bool
) -> None:
    service = NotificationLogJSONService(Items())
    with caplog.at_level(logging.WARNING, logger="eventsourcing.interface"):
        make_notification_log_server(service, host, token=token).server_close()

    assert ("0.0.0.0:" in caplog.text and "without a token" in caplog.text) is warns


@pytest.mark.parametrize(
    ("url", "token", "warns"),
    [
        ("http://10.1.2.3:8000", TOKEN, True),
        ("http://leader.example.com", TOKEN, True),
        ("http://10.1.2.3:8000", None, False),
        ("https://10.1.2.3:8000", TOKEN, False),
        ("http://localhost:8000", TOKEN, False),
        ("http://log.localhost:8000", TOKEN, False),
        ("http://[::1]:8000", TOKEN, False),
        ("http://127.0.0.9:8000", TOKEN, False),
    ],
)
def test_a_token_sent_in_clear_text_beyond_loopback_warns(
    caplog: pytest.LogCaptureFixture, url: str, token: str | None, warns: bool
) -> None:
    with caplog.at_level(logging.WARNING, logger="eventsourcing.interface"):
        HTTPNotificationLogInterface(url, token=token)

    assert ("in clear text" in caplog.text) is warns
    assert TOKEN not in caplog.text


def test_tokens_never_appear_in_reprs(items: Items) -> None:
    service = NotificationLogJSONService(items)
    app = NotificationLogWSGIApp(service, token=TOKEN)
    server = make_notification_log_server(service, token=TOKEN)
    server.server_close()
    interface = HTTPNotificationLogInterface("http://127.0.0.1:8000", TOKEN)
    client = NotificationLogJSONClient(interface)

    for thing in (app, server, interface, client):
        assert TOKEN not in repr(thing)
        assert TOKEN not in str(thing)
    assert "token='***'" in repr(app)
    assert repr(client) == (
        "NotificationLogJSONClient(HTTPNotificationLogInterface("
        "'http://127.0.0.1:8000', token='***', timeout=10.0, "
        "max_response_bytes=16777216))"
    )
    assert "token=None" in repr(NotificationLogWSGIApp(service))
    assert "token=None" in repr(HTTPNotificationLogInterface("http://127.0.0.1"))


def test_a_wrong_token_is_not_echoed(items: Items) -> None:
    server = make_notification_log_server(
        NotificationLogJSONService(items), token=TOKEN
    )
    with serving(server) as url:
        guess = "guessed-token-5678"
        with pytest.raises(HTTPNotificationLogError) as info:
            section_ids(url, token=guess)

    assert info.value.status == 401
    assert guess not in str(info.value)
    assert TOKEN not in str(info.value)


def test_credentials_in_a_base_url_are_refused_and_never_shown() -> None:
    with pytest.raises(ValueError, match="no credentials in it") as info:
        HTTPNotificationLogInterface("http://user:hunter2@127.0.0.1:8000/")

    assert "'http://***@127.0.0.1:8000'" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:port", "http:///notifications"])
def test_a_base_url_needs_a_host_and_a_port_number(url: str) -> None:
    with pytest.raises(ValueError, match="expected an http:// or https:// URL"):
        HTTPNotificationLogInterface(url)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": 0}, "Invalid timeout 0"),
        ({"timeout": -1}, "Invalid timeout -1"),
        ({"timeout": float("nan")}, "Invalid timeout nan"),
        ({"timeout": None}, "Invalid timeout None"),
        ({"max_response_bytes": 0}, "Invalid max_response_bytes 0"),
        ({"max_response_bytes": 1.5}, "Invalid max_response_bytes 1.5"),
        ({"token": ""}, "Invalid token ''"),
    ],
)
def test_client_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HTTPNotificationLogInterface("http://127.0.0.1:8000", **settings)


# 3. Hostile servers: redirects, huge and slow responses, nested JSON.


class Recorder:
    """A WSGI app that records the requests it gets, and answers 404."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        self.authorizations.append(environ.get("HTTP_AUTHORIZATION", ""))
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"stolen"]


def redirecting(location: str, status: str = "302 Found") -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, [("Location", location.format(**environ))])
        return [b""]

    return app


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{victim}/notifications/1,10",
        "//127.0.0.1:{victim}/notifications/1,10",
        "http://localhost:{SERVER_PORT}/notifications/1,10",
        "https://127.0.0.1:{SERVER_PORT}/notifications/1,10",
        "http://user:hunter2@127.0.0.1:{SERVER_PORT}/notifications/1,10",
        "http://127.0.0.1:port/notifications/1,10",
        "http://[::1",
        "file:///etc/passwd",
    ],
)
def test_redirects_to_another_origin_are_refused(location: str) -> None:
    victim = Recorder()
    with wsgi(victim) as victim_url:
        target = location.replace("{victim}", victim_url.rsplit(":", 1)[1])
        with wsgi(redirecting(target)) as url:
            client = HTTPNotificationLogInterface(url, TOKEN, timeout=2)
            with pytest.raises(HTTPNotificationLogError) as info:
                client.get_log_section("1,10")

    message = str(info.value)
    assert "another origin than the base URL's: refused" in message
    assert info.value.status == 302
    assert "hunter2" not in message
    assert TOKEN not in message
    assert victim.authorizations == []


def test_redirects_within_the_origin_are_followed_with_the_token(
    items: Items,
) -> None:
    log_app = NotificationLogWSGIApp(NotificationLogJSONService(items), token=TOKEN)

    def moved(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        path = environ["PATH_INFO"]
        if path.startswith("/old/"):
            location = path[len("/old") :] + "?" + environ["QUERY_STRING"]
            start_response("301 Moved Permanently", [("Location", location)])
            return [b""]
        return log_app(environ, start_response)

    with wsgi(moved) as url:
        client = NotificationLogJSONClient(
            HTTPNotificationLogInterface(url + "/old", TOKEN, timeout=2)
        )

        assert [n.id for n in client["1,10"].items] == list(range(1, 11))
        assert [n.id for n in client.select(3, 2)] == [3, 4]


def test_endless_redirects_are_refused() -> None:
    requests = []

    def loop(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        requests.append(environ["PATH_INFO"])
        start_response("307 Temporary Redirect", [("Location", "/again")])
        return [b""]

    with wsgi(loop) as url:
        client = HTTPNotificationLogInterface(url, timeout=2)
        with pytest.raises(HTTPNotificationLogError, match="more than 10 redirects"):
            client.get_notifications(1, 10)

    assert requests == ["/notifications", *["/again"] * 10]


def test_a_redirect_without_a_location_is_an_error() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        start_response("302 Found", [("Content-Type", "text/plain")])
        return [b"nowhere"]

    with wsgi(app) as url:
        client = HTTPNotificationLogInterface(url, timeout=2)
        with pytest.raises(HTTPNotificationLogError, match="302 Found: nowhere"):
            client.get_notifications(1, 10)


def test_responses_larger_than_max_response_bytes_are_refused(items: Items) -> None:
    server = make_notification_log_server(NotificationLogJSONService(items))
    with serving(server) as url:
        small = HTTPNotificationLogInterface(url, max_response_bytes=1000)
        with pytest.raises(HTTPNotificationLogError) as info:
            small.get_log_section("1,10")

        assert "larger than max_response_bytes=1000" in str(info.value)
        assert info.value.status == 200
        assert len(small.get_log_section("1,1")) < 1000


def test_responses_without_a_length_are_cut_at_max_response_bytes() -> None:
    def endless(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        start_response("200 OK", [("Content-Type", "application/json")])
        return (b"[" * 1000 for _ in range(1000))  # no Content-Length

    with wsgi(endless) as url:
        client = HTTPNotificationLogInterface(url, max_response_bytes=5000)
        with pytest.raises(HTTPNotificationLogError, match="max_response_bytes=5000"):
            client.get_notifications(1, 10)


TRICKLES = {
    "head": (b"HTTP/1.0 200 OK\r\nX-Slow: ", b"a"),
    "body": (b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n", b"["),
}


@pytest.mark.parametrize("part", sorted(TRICKLES))
def test_timeout_is_the_deadline_of_the_whole_request(part: str) -> None:
    start, trickle = TRICKLES[part]

    def trickling(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(start)
        for _ in range(100):
            time.sleep(0.05)
            connection.sendall(trickle)

    with raw(trickling) as url:
        client = HTTPNotificationLogInterface(url, TOKEN, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(HTTPNotificationLogError) as info:
            client.get_notifications(1, 10)
        elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 3  # the server trickles for 5 s
    assert "no complete response within timeout=0.5 s" in str(info.value)
    assert TOKEN not in str(info.value)


def test_timeout_bounds_a_tls_handshake_that_never_ends() -> None:
    def silent(connection: socket.socket) -> None:
        while connection.recv(65536):
            pass

    with raw(silent) as url:
        client = HTTPNotificationLogInterface(
            url.replace("http:", "https:"), TOKEN, 0.3
        )
        started = time.monotonic()
        with pytest.raises(HTTPNotificationLogError, match=r"within timeout=0\.3 s"):
            client.get_log_section("1,10")

    assert time.monotonic() - started < 3  # the server never answers


def test_a_server_that_does_not_speak_http_is_an_error() -> None:
    def garbage(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    with raw(garbage) as url:
        client = HTTPNotificationLogInterface(url, timeout=2)
        with pytest.raises(HTTPNotificationLogError, match=r"SSH-2\.0") as info:
            client.get_log_section("1,10")

    assert info.value.status is None


NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("depth", [100, 500, 900, 990, 100_000])
def test_deeply_nested_json_is_a_clean_value_error(depth: int) -> None:
    nested = "[" * depth + "]" * depth

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        start_response("200 OK", [("Content-Type", "application/json")])
        if environ["PATH_INFO"] == "/notifications":
            return [nested.encode()]
        section = {"id": None, "next_id": None, "items": ["NESTED"]}
        return [json.dumps(section).replace('"NESTED"', nested).encode()]

    with wsgi(app) as url:
        log = NotificationLogJSONClient(HTTPNotificationLogInterface(url, timeout=2))
        with pytest.raises(ValueError, match="Invalid notification") as section:
            log["1,10"]
        with pytest.raises(ValueError, match="Invalid notification") as selection:
            log.select(1, 10)

    for info in (section, selection):
        assert not isinstance(info.value, RecursionError)
        assert len(str(info.value)) < 1000


def test_deeply_nested_json_errors_are_clean_http_errors() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        start_response("500 Internal Server Error", [("Content-Type", "text/json")])
        return [NESTED.encode()]

    with wsgi(app) as url:
        client = HTTPNotificationLogInterface(url, timeout=2)
        with pytest.raises(HTTPNotificationLogError, match=r"500 .*: \[\[\[") as info:
            client.get_log_section("1,10")

    assert len(str(info.value)) < 700


# 4. A forged notification ID never moves a follower past genuine ones.


class ForgingService(NotificationLogJSONService[Items]):
    """The leader's genuine log, into which a forged ID may be slipped."""

    forging = False

    def get_notifications(self, start: int, limit: int) -> str:
        notifications = json.loads(super().get_notifications(start, limit))
        if self.forging:
            notifications.insert(1, {**notifications[0], "id": FORGED})
        return json.dumps(notifications)


def test_follower_refuses_a_forged_id_over_http_and_keeps_its_position() -> None:
    leader = Items()
    leader.add(5)
    service = ForgingService(leader)
    server = make_notification_log_server(service, token=TOKEN)
    with serving(server) as url:
        copier = Copier()
        copier.follow(
            "Items",
            NotificationLogJSONClient(HTTPNotificationLogInterface(url, TOKEN, 2)),
        )
        copier.pull_and_process("Items")
        assert copier.recorder.max_tracking_id("Items") == 5
        leader.add(2)

        service.forging = True
        with pytest.raises(NotificationLogError) as info:
            copier.pull_and_process("Items")

        message = str(info.value)
        assert (
            f"NotificationLogJSONClient(HTTPNotificationLogInterface('{url}'" in message
        )
        assert "IDs [6, 1000000000000000, 7] for start 6" in message
        assert TOKEN not in message
        assert copier.recorder.max_tracking_id("Items") == 5
        assert copier.recorder.max_notification_id() == 5

        # Once the log is genuine again, nothing was skipped.
        service.forging = False
        copier.pull_and_process("Items")
        assert copier.recorder.max_tracking_id("Items") == 7
        assert copier.recorder.max_notification_id() == 7
