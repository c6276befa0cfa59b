"""A WSGI server for a notification log that slow clients cannot stall: one thread
reads the request heads of every connection without blocking, so that a client
that trickles its request costs a socket and not a thread, and only complete
requests reach the fixed pool of worker threads."""

from __future__ import annotations

import enum
import io
import json
import logging
import math
import selectors
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import WSGIApplication

from ._hosts import is_loopback
from ._json import NotificationLogInterface
from ._wsgi import NotificationLogWSGIApp

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger("eventsourcing.interface")

DEFAULT_POOL_SIZE = 8
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_HEADER_TIMEOUT = 5.0
DEFAULT_MAX_HEADER_BYTES = 64 * 1024


class _Head(enum.Enum):
    """What a connection's request head is, after what has arrived of it."""

    INCOMPLETE = enum.auto()
    COMPLETE = enum.auto()
    TOO_LARGE = enum.auto()
    ABANDONED = enum.auto()


class _QuietHandler(WSGIRequestHandler):
    # Once its head has arrived, a request gives up its worker thread after this
    # long without progress in reading its body or taking the response.
    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


class _Connection(socket.socket):
    """An accepted connection that keeps what arrived while its request head was
    awaited, and gives it back first to whoever reads it with ``makefile("rb")``."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.family, sock.type, sock.proto, fileno=sock.detach())
        self.received = bytearray()
        self.deadline = math.inf

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        """Returns a file of the connection, which reads what has been received
        already before it reads the socket."""
        if mode != "rb":
            # typeshed spells out each mode of the standard method in overloads.
            return super().makefile(mode, *args, **kwargs)  # type: ignore[call-overload]
        return io.BufferedReader(_Replay(bytes(self.received), self))


class _Replay(io.RawIOBase):
    """Reads the given bytes, then the socket."""

    def __init__(self, data: bytes, sock: socket.socket) -> None:
        self._data = memoryview(data)
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if not self._data:
            return self._sock.recv_into(buffer)
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._data))
        view[:count] = self._data[:count]
        self._data = self._data[count:]
        return count


class ThreadingWSGIServer(WSGIServer):
    """The standard library's WSGI server, serving requests concurrently in a
    fixed pool of ``pool_size`` worker threads, and guarded against slow clients.

    One thread reads the request line and headers of every connection without
    blocking; a connection whose head has not arrived within ``header_timeout``
    seconds gets 408, and one whose head is larger than ``max_header_bytes`` gets
    431. Only complete requests go to the pool, so clients that trickle their
    requests cannot occupy its threads. At most ``max_connections`` connections
    are open at a time: beyond that, new ones get 503 and are closed at once.
    Serving a :class:`NotificationLogWSGIApp` without a token on an address other
    than loopback logs a warning on the ``eventsourcing.interface`` logger.

    Threads that live as long as the server keep their database connections (the
    datastores open one per thread), where a thread per request would open and
    close a connection for every request. :meth:`server_close` closes the socket,
    the connections still sending their heads, and then waits for the requests
    that were received to be served.
    """

    # Connections not yet accepted wait here, outside max_connections: the
    # standard library's 5 makes a burst of clients wait a second to connect.
    request_queue_size = 128

    def __init__(
        self,
        server_address: tuple[str, int],
        RequestHandlerClass: Callable[..., socketserver.BaseRequestHandler],  # noqa: N803
        bind_and_activate: bool = True,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        _check_count("pool size", pool_size)
        _check_count("max_connections", max_connections)
        _check_count("max_header_bytes", max_header_bytes)
        if not (
            isinstance(header_timeout, int | float) and 0 < header_timeout < math.inf
        ):
            msg = (
                f"Invalid header_timeout {header_timeout!r}: give the seconds that a "
                "client has to send its request line and headers, such as 5.0"
            )
            raise ValueError(msg)
        self.pool_size = pool_size
        self.max_connections = max_connections
        self.header_timeout = float(header_timeout)
        self.max_header_bytes = max_header_bytes
        super().__init__(server_address, RequestHandlerClass, bind_and_activate)
        self._executor = ThreadPoolExecutor(
            max_workers=pool_size, thread_name_prefix="notification-log-server"
        )
        self._lock = threading.Lock()
        self._open = 0
        self._refusing = False
        self._closing = False
        self._arrivals: deque[tuple[_Connection, Any]] = deque()
        self._wakeup, self._woken = socket.socketpair()
        self._wakeup.setblocking(False)
        self._head_reader = threading.Thread(
            target=self._read_heads, name="notification-log-server-heads", daemon=True
        )
        self._head_reader.start()

    @property
    def open_connections(self) -> int:
        """How many connections are open now, sending their request heads,
        waiting for a worker thread, or being served."""
        return self._open

    def set_app(self, application: WSGIApplication | None) -> None:
        # A log without a token, on an address that other machines can reach,
        # is theirs to read: the operator should know.
        super().set_app(application)
        host, port = self.server_address[:2]
        if (
            isinstance(application, NotificationLogWSGIApp)
            and application.token is None
            and not is_loopback(str(host))
        ):
            logger.warning(
                "The notification log server listens on %s:%s, which is not a "
                "loopback address, without a token: anyone who can reach it can "
                "read every event of the application. Give it a token, and serve "
                "it behind TLS (see the eventsourcing-interface README)",
                host,
                port,
            )

    def get_request(self) -> tuple[Any, Any]:
        """Accepts a connection, to be read without blocking."""
        sock, address = self.socket.accept()
        return _Connection(sock), address

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serves the connection if its request head has arrived already, or
        passes it to the thread that reads request heads, or refuses it when
        ``max_connections`` are open already."""
        with self._lock:
            refuse = self._open >= self.max_connections
            if not refuse:
                self._open += 1
            warn = refuse and not self._refusing
            self._refusing = refuse
        if refuse:
            if warn:
                logger.warning(
                    "The notification log server refuses new connections: "
                    "max_connections=%s are open. Raise max_connections if the "
                    "clients are genuine",
                    self.max_connections,
                )
            _send_error(
                request,
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"Too many connections (max_connections={self.max_connections} "
                "are open): try again shortly",
            )
            self.shutdown_request(request)
            return
        request.deadline = time.monotonic() + self.header_timeout
        request.setblocking(False)
        # Most clients send their request at once: those skip the head reader.
        state = self._receive(request)
        if state is not _Head.INCOMPLETE:
            self._settle(request, client_address, state)
            return
        with self._lock:
            self._arrivals.append((request, client_address))
        self._wake()

    def _wake(self) -> None:
        # A full buffer means that a wake-up is waiting already.
        with suppress(BlockingIOError):
            self._wakeup.send(b"\0")

    def _read_heads(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._woken, selectors.EVENT_READ)
        # In order of arrival, which is the order of their deadlines.
        waiting: dict[_Connection, Any] = {}
        try:
            while not self._closing:
                timeout = None
                if waiting:
                    first = next(iter(waiting))
                    timeout = max(0.0, first.deadline - time.monotonic())
                for key, _ in selector.select(timeout):
                    if key.fileobj is self._woken:
                        self._take_arrivals(selector, waiting)
                        continue
                    connection = cast(_Connection, key.fileobj)
                    state = self._receive(connection)
                    if state is not _Head.INCOMPLETE:
                        selector.unregister(connection)
                        self._settle(connection, waiting.pop(connection), state)
                self._expire(selector, waiting)
        finally:
            for connection in waiting:
                selector.unregister(connection)
                self._close(connection)
            selector.close()

    def _take_arrivals(
        self, selector: selectors.BaseSelector, waiting: dict[_Connection, Any]
    ) -> None:
        self._woken.recv(4096)
        with self._lock:
            arrivals = list(self._arrivals)
            self._arrivals.clear()
        for connection, address in arrivals:
            waiting[connection] = address
            selector.register(connection, selectors.EVENT_READ)

    def _receive(self, connection: _Connection) -> _Head:
        received = connection.received
        try:
            data = connection.recv(self.max_header_bytes + 1 - len(received))
        except BlockingIOError:
            return _Head.INCOMPLETE
        except OSError:  # reset by the client
            return _Head.ABANDONED
        if not data:
            return _Head.ABANDONED
        # The head ends at the first empty line; only the new bytes can end it.
        begin = max(0, len(received) - 2)
        received += data
        if received.find(b"\n\n", begin) >= 0 or received.find(b"\n\r\n", begin) >= 0:
            return _Head.COMPLETE
        if len(received) > self.max_header_bytes:
            return _Head.TOO_LARGE
        return _Head.INCOMPLETE

    def _settle(self, connection: _Connection, address: Any, state: _Head) -> None:
        if state is _Head.COMPLETE:
            connection.setblocking(True)
            self._executor.submit(self._serve, connection, address)
            return
        if state is _Head.TOO_LARGE:
            _send_error(
                connection,
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "The request line and headers are larger than "
                f"max_header_bytes={self.max_header_bytes}",
            )
        self._close(connection)

    def _expire(
        self, selector: selectors.BaseSelector, waiting: dict[_Connection, Any]
    ) -> None:
        now = time.monotonic()
        while waiting:
            connection = next(iter(waiting))
            if connection.deadline > now:
                break
            address = waiting.pop(connection)
            selector.unregister(connection)
            logger.debug(
                "%s - request head not received within header_timeout=%s s",
                address,
                self.header_timeout,
            )
            _send_error(
                connection,
                HTTPStatus.REQUEST_TIMEOUT,
                "The request line and headers did not arrive within "
                f"header_timeout={self.header_timeout} s",
            )
            self._close(connection)

    def _close(self, connection: socket.socket) -> None:
        self.shutdown_request(connection)
        with self._lock:
            self._open -= 1

    def _serve(self, request: Any, client_address: Any) -> None:
        # As socketserver.ThreadingMixIn.process_request_thread.
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self._close(request)

    def server_close(self) -> None:
        """Closes the listening socket and the connections still sending their
        request heads, then stops the worker threads once the requests already
        received have been served."""
        super().server_close()
        if not self._closing:
            self._closing = True
            self._wake()
            self._head_reader.join()
            self._executor.shutdown(wait=True)
            self._wakeup.close()
            self._woken.close()


def _check_count(name: str, value: int) -> None:
    if type(value) is not int or value < 1:
        msg = f"Invalid {name} {value!r}: it must be at least 1"
        raise ValueError(msg)


def _send_error(connection: socket.socket, status: HTTPStatus, message: str) -> None:
    # Best effort and never blocking: a client that reads nothing gets nothing.
    body = json.dumps({"error": message}).encode("utf-8")
    head = (
        f"HTTP/1.0 {status.value} {status.phrase}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    with suppress(OSError):
        connection.setblocking(False)
        connection.send(head.encode("ascii") + body)


def make_notification_log_server(
    interface: NotificationLogInterface,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> ThreadingWSGIServer:
    """Returns a wsgiref server for the notification log (not yet serving: call
    ``serve_forever()``, perhaps in a thread, then ``shutdown()`` and
    ``server_close()``). Port 0 picks a free port; the chosen one is
    ``server.server_port``. Requests are served by a pool of ``pool_size``
    threads, which keep their database connections from request to request, and
    are logged at DEBUG level rather than to stderr. The other settings guard
    against slow and greedy clients, as :class:`ThreadingWSGIServer` says."""
    app = NotificationLogWSGIApp(interface, token=token)
    server = ThreadingWSGIServer(
        (host, port),
        _QuietHandler,
        pool_size=pool_size,
        max_connections=max_connections,
        header_timeout=header_timeout,
        max_header_bytes=max_header_bytes,
    )
    server.set_app(app)
    return server
