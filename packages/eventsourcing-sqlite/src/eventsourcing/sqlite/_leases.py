"""Leases for workers on one host: an exclusive ``flock()`` on a file per lease, in
a folder beside the database file, which the kernel releases when the holder's
process ends however it ends."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading

from eventsourcing.persistence import Leases, holder_identity

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows has no flock(): see Factory.leases)
    HAVE_FLOCK = False
else:
    HAVE_FLOCK = True

__all__ = ["HAVE_FLOCK", "FileLeases"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class FileLeases(Leases):
    """Leases held as exclusive ``flock()`` locks on files in ``folder``.

    A lock belongs to an open file, so two holders in one process exclude each
    other as holders in two processes do, and a process that is killed loses its
    locks at once. The holder writes its ``"host:pid"`` into the file, so that
    :meth:`holder` can tell who holds a lease. Files are never removed (removing a
    lock file while another process opens it would let two processes lock two
    different files of one name). Only processes of one host share such locks:
    the folder must be on a local file system.
    """

    def __init__(self, folder: str, file_mode: int = 0o600) -> None:
        self.folder = folder
        self.file_mode = file_mode
        self._files: dict[str, int] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.folder!r})"

    def path(self, name: str) -> str:
        """The lock file of the lease ``name``: readable, and unique by a digest."""
        digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
        readable = _UNSAFE.sub("_", name)[:64]
        return os.path.join(self.folder, f"{readable}.{digest}.lock")

    def try_acquire(self, name: str) -> bool:
        with self._guard:
            if name in self._files:
                return True
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            fd = os.open(self.path(name), os.O_RDWR | os.O_CREAT, self.file_mode)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder_identity().encode(), 0)
            self._files[name] = fd
            return True

    def release(self, name: str) -> None:
        with self._guard:
            fd = self._files.pop(name, None)
            if fd is not None:
                os.ftruncate(fd, 0)
                # Closing the only descriptor of the open file releases the lock.
                os.close(fd)

    def held(self) -> set[str]:
        with self._guard:
            return set(self._files)

    def holder(self, name: str) -> str | None:
        try:
            fd = os.open(self.path(name), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 256, 0).decode(errors="replace").strip()
                return text or None
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
