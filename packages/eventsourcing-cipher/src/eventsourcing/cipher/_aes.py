"""AES-GCM cipher for application-level encryption of stored event state."""

from __future__ import annotations

import binascii
import os
from base64 import b64decode, b64encode

from Crypto.Cipher import AES

from eventsourcing.persistence import Cipher, DataError

KEY_SIZES = (16, 24, 32)
NONCE_SIZE = 12  # the size GCM is designed for: no extra hashing of the nonce
TAG_SIZE = 16


class DecryptionError(DataError, ValueError):
    """Ciphertext that cannot be decrypted: wrong key, truncated, or tampered with.

    GCM authenticates what it encrypts, so such data is refused rather than
    decrypted to garbage.
    """


def _decode_key(cipher_key: str) -> bytes:
    if not isinstance(cipher_key, str):
        msg = f"AES cipher key must be a base64 string, not {type(cipher_key).__name__}"
        raise TypeError(msg)
    try:
        key = b64decode(cipher_key, validate=True)
    except (binascii.Error, ValueError) as e:
        msg = (
            "AES cipher key is not valid base64: set 'CIPHER_KEY' to a key made "
            "by AESCipher.create_key()"
        )
        raise ValueError(msg) from e
    if len(key) not in KEY_SIZES:
        msg = (
            f"AES cipher key is {len(key)} bytes long, but must be 16, 24 or 32 "
            "bytes: make one with AESCipher.create_key(num_bytes=32)"
        )
        raise ValueError(msg)
    return key


class AESCipher(Cipher):
    """Cipher strategy that uses AES in GCM mode (PyCryptodome).

    Each call of :meth:`encrypt` uses a fresh random nonce and returns
    ``nonce + tag + ciphertext``; :meth:`decrypt` checks the tag before
    returning anything.
    """

    def __init__(self, cipher_key: str) -> None:
        """Initialise with ``cipher_key``: 16, 24 or 32 bytes encoded as base64.

        The infrastructure factory passes the value of "CIPHER_KEY".
        """
        self._key = _decode_key(cipher_key)

    @staticmethod
    def create_key(num_bytes: int) -> str:
        """Create a random AES cipher key of ``num_bytes`` (16, 24 or 32), as base64."""
        if num_bytes not in KEY_SIZES:
            msg = f"AES cipher key length must be 16, 24 or 32 bytes, not {num_bytes!r}"
            raise ValueError(msg)
        return b64encode(os.urandom(num_bytes)).decode("ascii")

    def encrypt(self, plaintext: bytes) -> bytes:
        """Return ``nonce + tag + ciphertext`` for ``plaintext``."""
        nonce = os.urandom(NONCE_SIZE)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return nonce + tag + ciphertext

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return the plaintext of data made by :meth:`encrypt` with the same key."""
        if len(ciphertext) < NONCE_SIZE + TAG_SIZE:
            msg = (
                f"Cannot decrypt {len(ciphertext)} bytes: AES-GCM data has at least "
                f"{NONCE_SIZE + TAG_SIZE} (nonce and tag), so it is truncated or "
                "was not encrypted"
            )
            raise DecryptionError(msg)
        nonce = ciphertext[:NONCE_SIZE]
        tag = ciphertext[NONCE_SIZE : NONCE_SIZE + TAG_SIZE]
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        try:
            return bytes(
                cipher.decrypt_and_verify(ciphertext[NONCE_SIZE + TAG_SIZE :], tag)
            )
        except ValueError as e:
            msg = (
                "Cannot decrypt: authentication failed, so the cipher key differs "
                "from the one that encrypted the data ('CIPHER_KEY'), or the data "
                "was truncated or tampered with"
            )
            raise DecryptionError(msg) from e
