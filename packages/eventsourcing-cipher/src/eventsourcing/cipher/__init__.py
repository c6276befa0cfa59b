"""Application-level encryption: :class:`AESCipher` encrypts the state of stored
events with AES in GCM mode, so it is unreadable at rest and on the wire.

Decryption that fails (wrong key, truncated or tampered data) raises
:class:`DecryptionError`, a :class:`~eventsourcing.persistence.DataError` and a
:class:`ValueError`; a malformed key raises :class:`ValueError`.
"""

from eventsourcing.cipher._aes import AESCipher, DecryptionError

__all__ = ["AESCipher", "DecryptionError"]
