"""AESCipher's bound format: each ciphertext authenticates its record's identity and
names its key, so moved, relabelled or swapped ciphertexts are refused and keys can
be rotated; 9.1's format is still read."""

from __future__ import annotations

import os
from base64 import b64decode

import pytest
from Crypto.Cipher import AES

from eventsourcing.cipher import AESCipher, DecryptionError
from eventsourcing.cipher._aes import MAGIC, MAGIC_V1, _associated_data, key_id

KEY = AESCipher.create_key(32)


def test_bound_round_trip_and_layout() -> None:
    cipher = AESCipher(KEY)
    ciphertext = cipher.encrypt_record(b"secret", b"record A")
    assert ciphertext.startswith(MAGIC + key_id(b64decode(KEY)))
    assert len(ciphertext) == 4 + 4 + 12 + 16 + len(b"secret")
    assert cipher.is_bound(ciphertext)
    assert not cipher.is_bound(cipher.encrypt(b"secret"))
    assert cipher.decrypt_record(ciphertext, b"record A") == b"secret"
    assert cipher.decrypt(cipher.encrypt_record(b"x", b"")) == b"x"


def test_ciphertext_of_another_record_is_refused() -> None:
    cipher = AESCipher(KEY)
    ciphertext = cipher.encrypt_record(b"secret", b"record A")
    with pytest.raises(DecryptionError, match="belongs to another record"):
        cipher.decrypt_record(ciphertext, b"record B")


@pytest.mark.parametrize("position", [4, 8, 20, 36, -1])
def test_tampered_bound_ciphertext_is_refused(position: int) -> None:
    cipher = AESCipher(KEY)
    ciphertext = bytearray(cipher.encrypt_record(b"secret", b"A"))
    ciphertext[position] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt_record(bytes(ciphertext), b"A")


def test_truncated_bound_ciphertext_is_refused() -> None:
    with pytest.raises(DecryptionError):
        AESCipher(KEY).decrypt_record(MAGIC + b"\x00" * 10, b"A")


def test_old_keys_decrypt_what_they_encrypted_and_the_key_encrypts_all_new() -> None:
    old_key = AESCipher.create_key(16)
    before = AESCipher(old_key)
    bound = before.encrypt_record(b"bound", b"A")
    unbound = before.encrypt(b"unbound")  # as 9.1 wrote it
    rotated = AESCipher(KEY, old_keys=[old_key])
    assert rotated.decrypt_record(bound, b"A") == b"bound"
    assert rotated.decrypt_record(unbound, b"A") == b"unbound"
    assert rotated.encrypt_record(b"new", b"A")[4:8] == key_id(b64decode(KEY))
    with pytest.raises(DecryptionError, match="neither 'CIPHER_KEY' nor one of"):
        AESCipher(KEY).decrypt_record(bound, b"A")
    with pytest.raises(ValueError, match="CIPHER_OLD_KEYS"):
        AESCipher(KEY, old_keys=["not base64!"])


def test_a_9_1_ciphertext_whose_nonce_begins_like_the_header_still_reads() -> None:
    key = b64decode(KEY)
    nonce = MAGIC + os.urandom(8)
    aes = AES.new(key, AES.MODE_GCM, nonce=nonce)
    body, tag = aes.encrypt_and_digest(b"old")
    assert AESCipher(KEY).decrypt_record(nonce + tag + body, b"A") == b"old"


def test_the_repr_shows_the_key_id_not_the_key() -> None:
    cipher = AESCipher(KEY)
    assert KEY not in repr(cipher)
    assert key_id(b64decode(KEY)).hex() in repr(cipher)


@pytest.mark.parametrize("identity_size", [0, 1, 7, 8, 9, 15, 16, 17, 40, 77])
def test_the_associated_data_fills_whole_blocks(identity_size: int) -> None:
    # PyCryptodome hashes a partial block of associated data in a call of its own.
    header = MAGIC + key_id(b64decode(KEY))
    identity = os.urandom(identity_size)
    data = _associated_data(header, identity)
    assert len(data) % 16 == 0
    assert data.startswith(header + identity)
    assert int.from_bytes(data[-8:], "big") == identity_size
    # Identities that differ only by trailing zeros give different blocks.
    assert _associated_data(header, identity + b"\x00") != data


def test_the_first_bound_format_still_reads_and_stays_bound() -> None:
    # Written before the associated data filled whole blocks: header + identity.
    key = b64decode(KEY)
    header = MAGIC_V1 + key_id(key)
    nonce = os.urandom(12)
    aes = AES.new(key, AES.MODE_GCM, nonce=nonce)
    aes.update(header + b"record A")
    body, tag = aes.encrypt_and_digest(b"first")
    ciphertext = header + nonce + tag + body
    cipher = AESCipher(KEY)
    assert cipher.is_bound(ciphertext)
    assert cipher.decrypt_record(ciphertext, b"record A") == b"first"
    with pytest.raises(DecryptionError, match="belongs to another record"):
        cipher.decrypt_record(ciphertext, b"record B")
    # What is written now is the current version.
    assert cipher.encrypt_record(b"new", b"record A").startswith(MAGIC)
