"""Application-level encryption: :class:`AESCipher` encrypts the state of stored
events with AES in GCM mode, so it is unreadable at rest and on the wire, and
binds each ciphertext to its record, so a moved or relabelled one is refused.

Decryption that fails (wrong key, truncated, tampered with or moved data) raises
:class:`DecryptionError`, a :class:`~eventsourcing.persistence.DataError` and a
:class:`ValueError`; a malformed key raises :class:`ValueError`.
"""

from typing import TYPE_CHECKING

from eventsourcing.cipher._aes import AESCipher
from eventsourcing.persistence import DecryptionError
from eventsourcing.utils import publish, version_getter

__all__ = ["AESCipher", "DecryptionError"]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-cipher")
