"""AESCipher: keys, round trips, and refusal of data it cannot authenticate."""

from __future__ import annotations

from base64 import b64decode, b64encode

import pytest
from Crypto.Cipher import AES

from eventsourcing.cipher import AESCipher, DecryptionError
from eventsourcing.persistence import Cipher, DataError


@pytest.mark.parametrize("num_bytes", [16, 24, 32])
def test_create_key_makes_base64_keys_of_the_given_length(num_bytes: int) -> None:
    key = AESCipher.create_key(num_bytes=num_bytes)

    assert len(b64decode(key)) == num_bytes
    assert key != AESCipher.create_key(num_bytes=num_bytes)


@pytest.mark.parametrize("num_bytes", [0, 8, 15, 17, 31, 33, 64])
def test_create_key_refuses_other_lengths(num_bytes: int) -> None:
    with pytest.raises(ValueError, match="must be 16, 24 or 32 bytes"):
        AESCipher.create_key(num_bytes=num_bytes)


@pytest.mark.parametrize("num_bytes", [16, 24, 32])
def test_round_trip(num_bytes: int) -> None:
    cipher = AESCipher(cipher_key=AESCipher.create_key(num_bytes))
    plaintext = b'{"secret": "the treasure is buried under the oak"}'

    ciphertext = cipher.encrypt(plaintext)

    assert isinstance(cipher, Cipher)
    assert b"treasure" not in ciphertext
    assert len(ciphertext) == 12 + 16 + len(plaintext)
    assert cipher.decrypt(ciphertext) == plaintext
    assert cipher.encrypt(plaintext) != ciphertext  # a fresh nonce each time
    assert cipher.decrypt(cipher.encrypt(b"")) == b""


def test_layout_is_nonce_tag_ciphertext() -> None:
    key = AESCipher.create_key(16)
    ciphertext = AESCipher(key).encrypt(b"hello")

    nonce, tag, body = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
    aes = AES.new(b64decode(key), AES.MODE_GCM, nonce=nonce)

    assert aes.decrypt_and_verify(body, tag) == b"hello"


def test_wrong_key_is_refused() -> None:
    ciphertext = AESCipher(AESCipher.create_key(32)).encrypt(b"hello")
    other = AESCipher(AESCipher.create_key(32))

    with pytest.raises(DecryptionError, match="cipher key differs") as info:
        other.decrypt(ciphertext)

    assert isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("position", [0, 11, 12, 27, 28, -1])
def test_tampered_ciphertext_is_refused(position: int) -> None:
    cipher = AESCipher(AESCipher.create_key(24))
    ciphertext = bytearray(cipher.encrypt(b"hello world"))
    ciphertext[position] ^= 0x01

    with pytest.raises(DecryptionError, match="tampered"):
        cipher.decrypt(bytes(ciphertext))


def test_truncated_ciphertext_is_refused() -> None:
    cipher = AESCipher(AESCipher.create_key(16))
    ciphertext = cipher.encrypt(b"hello world")

    with pytest.raises(DecryptionError, match="truncated"):
        cipher.decrypt(ciphertext[:-1])
    with pytest.raises(DecryptionError, match="Cannot decrypt 27 bytes"):
        cipher.decrypt(ciphertext[:27])


@pytest.mark.parametrize("num_bytes", [1, 15, 20, 33])
def test_key_of_wrong_length_is_refused(num_bytes: int) -> None:
    key = b64encode(b"k" * num_bytes).decode()

    with pytest.raises(ValueError, match=f"is {num_bytes} bytes long"):
        AESCipher(cipher_key=key)


def test_key_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid base64"):
        AESCipher(cipher_key="not base64!")


def test_key_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a base64 string, not bytes"):
        AESCipher(cipher_key=b"0123456789abcdef")  # type: ignore[arg-type]
