"""AES-GCM cipher for application-level encryption of stored event state.

Two formats. :meth:`AESCipher.encrypt` writes eventsourcing 9.1's: ``nonce (12) +
tag (16) + ciphertext``. :meth:`AESCipher.encrypt_record` writes the bound format,
``MAGIC (4) + key id (4) + nonce (12) + tag (16) + ciphertext``, whose tag also
authenticates the header and the record's identity (associated data), so a
ciphertext moved to another record, relabelled or swapped is refused; the key id
names the key that encrypted it, so keys can be rotated. Both are always read.

The bound format's associated data is ``header + identity + zeros + length of the
identity (8)``, zero-filled to whole 16-byte blocks: PyCryptodome hashes a partial
block of associated data in a call of its own, which cost as much as a tenth of a
decryption. Its first version (``MAGIC_V1``) took ``header + identity`` as they
are; it is still read.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from base64 import b64decode, b64encode
from collections.abc import Sequence

from Crypto.Cipher import AES

from eventsourcing.persistence import Cipher, DecryptionError

KEY_SIZES = (16, 24, 32)
NONCE_SIZE = 12  # the size GCM is designed for: no extra hashing of the nonce
TAG_SIZE = 16
MAGIC = b"\x00EC\x02"  # a 9.1 ciphertext begins with a random nonce instead
MAGIC_V1 = b"\x00EC\x01"  # the bound format with associated data as it is
_MAGICS = (MAGIC, MAGIC_V1)
_BLOCK_SIZE = 16
_LENGTH_SIZE = 8
KEY_ID_SIZE = 4
_HEADER_SIZE = len(MAGIC) + KEY_ID_SIZE


def _decode_key(cipher_key: str, setting: str = "CIPHER_KEY") -> bytes:
    if not isinstance(cipher_key, str):
        msg = f"AES cipher key must be a base64 string, not {type(cipher_key).__name__}"
        raise TypeError(msg)
    try:
        key = b64decode(cipher_key, validate=True)
    except (binascii.Error, ValueError) as e:
        msg = (
            f"AES cipher key is not valid base64: set {setting!r} to a key made "
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


def key_id(key: bytes) -> bytes:
    """The 4-byte id that names a key in the ciphertexts it makes: derived from the
    key by HMAC, so it reveals nothing usable about the key."""
    return hmac.new(key, b"eventsourcing AES key id", hashlib.sha256).digest()[
        :KEY_ID_SIZE
    ]


def _associated_data(header: bytes, identity: bytes) -> bytes:
    """What the tag of a bound ciphertext authenticates besides the ciphertext:
    its header and the record's identity, in whole blocks (ended by the length of
    the identity, so that no two identities give the same blocks)."""
    fill = -(len(header) + len(identity) + _LENGTH_SIZE) % _BLOCK_SIZE
    return b"".join(
        (header, identity, bytes(fill), len(identity).to_bytes(_LENGTH_SIZE, "big"))
    )


class AESCipher(Cipher):
    """Cipher strategy that uses AES in GCM mode (PyCryptodome).

    Each encryption uses a fresh random nonce; decryption checks the tag before
    returning anything. ``old_keys`` ("CIPHER_OLD_KEYS") still decrypt what they
    encrypted, while the key ("CIPHER_KEY") encrypts everything new.
    """

    def __init__(self, cipher_key: str, old_keys: Sequence[str] = ()) -> None:
        """Initialise with ``cipher_key``: 16, 24 or 32 bytes encoded as base64.

        The infrastructure factory passes the value of "CIPHER_KEY", and the keys
        of "CIPHER_OLD_KEYS" as ``old_keys``.
        """
        self._key = _decode_key(cipher_key)
        self._key_id = key_id(self._key)
        self._header = MAGIC + self._key_id
        self._keys = [self._key, *(_decode_key(k, "CIPHER_OLD_KEYS") for k in old_keys)]
        self._keys_by_id = {key_id(k): k for k in reversed(self._keys)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key id {self._key_id.hex()})"

    @staticmethod
    def create_key(num_bytes: int) -> str:
        """Create a random AES cipher key of ``num_bytes`` (16, 24 or 32), as base64."""
        if num_bytes not in KEY_SIZES:
            msg = f"AES cipher key length must be 16, 24 or 32 bytes, not {num_bytes!r}"
            raise ValueError(msg)
        return b64encode(os.urandom(num_bytes)).decode("ascii")

    def encrypt(self, plaintext: bytes) -> bytes:
        """Return ``nonce + tag + ciphertext`` for ``plaintext`` (9.1's format)."""
        nonce = os.urandom(NONCE_SIZE)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return nonce + tag + ciphertext

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return the plaintext of data made by :meth:`encrypt` or
        :meth:`encrypt_record` (without associated data) with a configured key."""
        return self.decrypt_record(ciphertext, b"")

    def encrypt_record(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Return the bound format for ``plaintext``: its tag authenticates the
        header and ``associated_data`` too."""
        nonce = os.urandom(NONCE_SIZE)
        header = self._header
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        cipher.update(_associated_data(header, associated_data))
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return b"".join((header, nonce, tag, ciphertext))

    def decrypt_record(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext of a ciphertext in either format: the bound one
        must have been made for ``associated_data``."""
        if ciphertext[: len(MAGIC)] in _MAGICS:
            plaintext = self._decrypt_bound(ciphertext, associated_data)
            if plaintext is not None:
                return plaintext
            # A 9.1 ciphertext whose random nonce begins like the header (one in
            # 2**32) is still read below; anything else fails there too.
        return self._decrypt_unbound(ciphertext)

    def is_bound(self, ciphertext: bytes) -> bool:
        """Tell whether a ciphertext is in the bound format."""
        return ciphertext[: len(MAGIC)] in _MAGICS

    def _decrypt_bound(self, data: bytes, associated_data: bytes) -> bytes | None:
        start = _HEADER_SIZE + NONCE_SIZE + TAG_SIZE
        if len(data) < start:
            return None
        header = data[:_HEADER_SIZE]
        key = self._keys_by_id.get(header[len(MAGIC) :])
        if key is None:
            return None
        cipher = AES.new(key, AES.MODE_GCM, nonce=data[_HEADER_SIZE : start - TAG_SIZE])
        if header[: len(MAGIC)] == MAGIC:
            cipher.update(_associated_data(header, associated_data))
        else:
            cipher.update(header + associated_data)  # MAGIC_V1
        try:
            return bytes(
                cipher.decrypt_and_verify(data[start:], data[start - TAG_SIZE : start])
            )
        except ValueError:
            return None

    def _decrypt_unbound(self, data: bytes) -> bytes:
        if len(data) < NONCE_SIZE + TAG_SIZE:
            msg = (
                f"Cannot decrypt {len(data)} bytes: AES-GCM data has at least "
                f"{NONCE_SIZE + TAG_SIZE} (nonce and tag), so it is truncated or "
                "was not encrypted"
            )
            raise DecryptionError(msg)
        nonce = data[:NONCE_SIZE]
        tag = data[NONCE_SIZE : NONCE_SIZE + TAG_SIZE]
        body = data[NONCE_SIZE + TAG_SIZE :]
        failure: ValueError | None = None
        for key in self._keys:
            cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
            try:
                return bytes(cipher.decrypt_and_verify(body, tag))
            except ValueError as e:
                failure = e
        if data[: len(MAGIC)] in _MAGICS:
            key_hex = data[len(MAGIC) : _HEADER_SIZE].hex()
            if data[len(MAGIC) : _HEADER_SIZE] not in self._keys_by_id:
                msg = (
                    f"Cannot decrypt: it was encrypted with a key (id {key_hex}) "
                    "that is neither 'CIPHER_KEY' nor one of 'CIPHER_OLD_KEYS'"
                )
            else:
                msg = (
                    "Cannot decrypt: authentication failed, so the data was "
                    "tampered with, truncated, or belongs to another record (moved, "
                    "relabelled or swapped)"
                )
            raise DecryptionError(msg) from failure
        msg = (
            "Cannot decrypt: authentication failed, so the cipher key differs "
            "from the one that encrypted the data ('CIPHER_KEY', 'CIPHER_OLD_KEYS'), "
            "or the data was truncated or tampered with"
        )
        raise DecryptionError(msg) from failure
