"""Settings written for eventsourcing 9.1 mean what they meant, and the factory
says what it chose."""

from __future__ import annotations

import bz2
import logging
import lzma
import sys
import uuid
from pathlib import Path

import pytest

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import (
    ConfigurationError,
    Environment,
    InfrastructureFactory,
    JSONTranscoder,
)
from eventsourcing.persistence._environment import is_secret
from eventsourcing.persistence._plugins import entry_points, load_plugin

KEY = "a key"


def test_old_keys_need_a_cipher_that_takes_them() -> None:
    env = {
        "CIPHER_TOPIC": "tests_ciphers:PlainCipher",
        "CIPHER_KEY": "k",
        "CIPHER_OLD_KEYS": "o",
    }
    factory = InfrastructureFactory.construct("App", env)
    with pytest.raises(ConfigurationError, match="does not take old keys"):
        factory.cipher()


@pytest.fixture(autouse=True)
def _plain_cipher_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tests_backend").mkdir()
    (tmp_path / "tests_backend" / "__init__.py").write_text("")
    (tmp_path / "tests_backend" / "sub.py").write_text(
        "from eventsourcing.popo import Factory as _Popo\n"
        "class Factory(_Popo):\n"
        "    pass\n"
    )
    (tmp_path / "tests_ciphers.py").write_text(
        "from eventsourcing.persistence import Cipher\n"
        "class PlainCipher(Cipher):\n"
        "    def __init__(self, cipher_key):\n"
        "        self.cipher_key = cipher_key\n"
        "    def encrypt(self, plaintext):\n"
        "        return plaintext\n"
        "    def decrypt(self, ciphertext):\n"
        "        return ciphertext\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.parametrize(
    ("value", "module"), [("bz2", bz2), ("lzma", lzma), ("bz2:", bz2)]
)
def test_compressor_topic_may_name_a_module_as_in_9_1(
    value: str, module: object
) -> None:
    factory = InfrastructureFactory.construct("App", {"COMPRESSOR_TOPIC": value})
    compressor = factory.compressor()
    assert compressor is not None
    data = b"a" * 100
    assert compressor.compress(data) == module.compress(data)  # type: ignore[attr-defined]  # a compression module
    assert compressor.decompress(compressor.compress(data)) == data
    assert value.rstrip(":") in repr(compressor)


def test_compressor_zlib_is_the_registered_compressor() -> None:
    factory = InfrastructureFactory.construct("App", {"COMPRESSOR_TOPIC": "zlib"})
    assert isinstance(factory.compressor(), ZlibCompressor)


def test_compressor_module_that_fails_to_import_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"broken_compressor_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    factory = InfrastructureFactory.construct("App", {"COMPRESSOR_TOPIC": name})
    with pytest.raises(ConfigurationError, match="Could not import the module"):
        factory.compressor()
    sys.modules.pop(name, None)


def test_compressor_name_with_a_missing_parent_package_is_unknown() -> None:
    factory = InfrastructureFactory.construct(
        "App", {"COMPRESSOR_TOPIC": "no_such_package_xyz.zlib"}
    )
    with pytest.raises(ConfigurationError, match="No compressor"):
        factory.compressor()


@pytest.mark.parametrize("variable", ["INFRASTRUCTURE_FACTORY", "PERSISTENCE_MODULE"])
def test_backend_may_be_named_by_its_module(variable: str) -> None:
    # As later releases of the original library write it: the module's Factory.
    factory = InfrastructureFactory.construct("App", {variable: "tests_backend.sub"})
    assert type(factory).__qualname__ == "Factory"
    assert type(factory).__module__ == "tests_backend.sub"
    with pytest.raises(ConfigurationError, match="not a subclass"):
        load_plugin(
            "eventsourcing.infrastructure",
            "tests_backend",
            InfrastructureFactory,
            variable,
        )


def test_configuration_errors_are_environment_errors_as_in_9_1() -> None:
    # A 9.1 user catches configuration errors with ``except EnvironmentError``.
    with pytest.raises(EnvironmentError, match="No persistence backend"):
        InfrastructureFactory.construct("App", {"INFRASTRUCTURE_FACTORY": "nope"})
    assert issubclass(ConfigurationError, ValueError)


def test_the_9_1_name_of_the_factory_variable() -> None:
    assert InfrastructureFactory.TOPIC == "INFRASTRUCTURE_FACTORY"


def test_secrets_are_masked_in_the_environment_and_factories() -> None:
    env = Environment(
        CIPHER_KEY="k3y",
        POSTGRES_PASSWORD="pa55",
        BANK_CIPHER_OLD_KEYS="old",
        API_TOKEN="t0k",
        SQLITE_DBNAME="db",
    )
    for text in (repr(env), str(env), repr(env.copy())):
        assert "k3y" not in text
        assert "pa55" not in text
        assert "old" not in text
        assert "t0k" not in text
        assert "'db'" in text
    assert isinstance(env.copy(), Environment)
    assert env["CIPHER_KEY"] == "k3y"
    factory = InfrastructureFactory.construct("App", env)
    assert factory.env is env
    assert "k3y" not in repr(factory)
    assert is_secret("postgres_password")
    assert not is_secret("SQLITE_DBNAME")


def test_choosing_a_backend_is_logged_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="eventsourcing"):
        InfrastructureFactory.construct("App", {"CIPHER_KEY": KEY})
    (record,) = [r for r in caplog.records if "persistence backend" in r.message]
    assert record.name == "eventsourcing.persistence"
    assert "'App'" in record.message
    assert "'popo'" in record.message
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    "variable",
    ["INFRASTRUCTURE_FACTORIES", "INFRASTRUCTURE_FACTROY", "PERSISTENCE_MODULES"],
)
def test_misspelt_backend_variable_warns_of_the_memory_default(
    variable: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="eventsourcing"):
        factory = InfrastructureFactory.construct("App", {variable: "sqlite"})
    assert type(factory).__module__ == "eventsourcing.popo"
    assert f"{variable} is set" in caplog.text
    assert "did you mean INFRASTRUCTURE_FACTORY" in caplog.text


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"BANK_INFRASTRUCTURE_FACTORY": "sqlite"},
        {"INFRASTRUCTURE_FACTORY": ""},
        {"SQLITE_DBNAME": "x"},
    ],
)
def test_no_warning_without_a_misspelt_variable(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="eventsourcing"):
        InfrastructureFactory.construct("App", env)
    assert caplog.text == ""


def test_entry_point_cache_is_per_group() -> None:
    assert "popo" in entry_points("eventsourcing.infrastructure")
    assert "zlib" in entry_points("eventsourcing.compressor")


def test_factory_close_is_available_on_every_backend() -> None:
    factory = InfrastructureFactory.construct("App", {})
    factory.close()  # holds nothing open: nothing to do, no error
    mapper = factory.mapper(JSONTranscoder())
    assert mapper.application_name == "App"
    leader = factory.mapper(JSONTranscoder(), application_name="Leader")
    assert leader.application_name == "Leader"
