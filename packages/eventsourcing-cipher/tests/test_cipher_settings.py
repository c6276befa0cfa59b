"""The cipher settings of eventsourcing 9.1 mean what they meant: "CIPHER_KEY"
alone chooses AES; "CIPHER_OLD_KEYS" keeps rotated keys decrypting."""

from __future__ import annotations

import pytest

from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import ConfigurationError, InfrastructureFactory

KEY = AESCipher.create_key(16)


def test_cipher_key_alone_means_the_aes_cipher() -> None:
    factory = InfrastructureFactory.construct("App", {"CIPHER_KEY": KEY})
    assert isinstance(factory.cipher(), AESCipher)


def test_cipher_key_alone_without_the_aes_cipher_installed_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "eventsourcing.persistence._factory.entry_points", lambda group: {}
    )
    factory = InfrastructureFactory.construct("App", {"CIPHER_KEY": KEY})
    with pytest.raises(ConfigurationError, match="eventsourcing-cipher is not inst"):
        factory.cipher()


def test_old_keys_go_to_a_cipher_that_takes_them() -> None:
    old = AESCipher.create_key(16)
    factory = InfrastructureFactory.construct(
        "App", {"CIPHER_KEY": KEY, "CIPHER_OLD_KEYS": f" {old} , "}
    )
    cipher = factory.cipher()
    assert cipher is not None
    assert cipher.decrypt(AESCipher(old).encrypt(b"x")) == b"x"


def test_old_keys_errors_name_the_settings() -> None:
    env = {"CIPHER_KEY": KEY, "CIPHER_OLD_KEYS": "not base64!"}
    factory = InfrastructureFactory.construct("App", env)
    with pytest.raises(ConfigurationError, match="CIPHER_OLD_KEYS is not a valid"):
        factory.cipher()
    factory = InfrastructureFactory.construct("App", {"CIPHER_KEY": "short"})
    with pytest.raises(ConfigurationError, match="CIPHER_KEY is not a valid key"):
        factory.cipher()
