"""The infrastructure factory: choosing a backend, cipher and compressor by
entry-point name or topic, and reading the environment."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import (
    Cipher,
    ConfigurationError,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
)
from eventsourcing.persistence._plugins import (
    _distribution_name,
    entry_points,
    installed_names,
)

BACKEND_MODULE = """
from eventsourcing.persistence import Cipher, InfrastructureFactory


class Factory(InfrastructureFactory):
    def aggregate_recorder(self, purpose="events"):
        raise NotImplementedError

    def application_recorder(self):
        raise NotImplementedError

    def process_recorder(self):
        raise NotImplementedError


class OtherFactory(Factory):
    pass


class NotAFactory:
    pass


class ReversingCipher(Cipher):
    def __init__(self, cipher_key):
        self.cipher_key = cipher_key

    def encrypt(self, plaintext):
        return plaintext[::-1]

    def decrypt(self, ciphertext):
        return ciphertext[::-1]
"""


@dataclass
class ThirdParty:
    """A throwaway distribution installed on sys.path for one test."""

    module: ModuleType
    name: str


def install_distribution(path: Path, dist_name: str, entry_points_txt: str) -> None:
    dist_info = path / f"{dist_name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points_txt))


@pytest.fixture
def third_party(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ThirdParty]:
    name = f"es_third_party_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(BACKEND_MODULE)
    install_distribution(
        tmp_path,
        "eventsourcing-third-party",
        f"""
        [eventsourcing.infrastructure]
        thirdparty = {name}:Factory
        notafactory = {name}:NotAFactory
        broken = {name}_missing:Factory
        twice = {name}:Factory

        [eventsourcing.cipher]
        reversing = {name}:ReversingCipher
        """,
    )
    install_distribution(
        tmp_path,
        "eventsourcing-copycat",
        f"""
        [eventsourcing.infrastructure]
        twice = {name}:OtherFactory
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry_points.cache_clear()
    module = __import__(name)
    yield ThirdParty(module=module, name=name)
    entry_points.cache_clear()


def construct(**env: str) -> InfrastructureFactory:
    return InfrastructureFactory.construct("MyApp", env)


def test_third_party_backend_is_found_by_entry_point_name(
    third_party: ThirdParty,
) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "thirdparty"}
    factory = InfrastructureFactory.construct("MyApp", env)
    assert type(factory) is third_party.module.Factory
    assert factory.application_name == "MyApp"
    assert factory.env == env
    assert "thirdparty" in installed_names("eventsourcing.infrastructure")


def test_backend_is_found_by_topic(third_party: ThirdParty) -> None:
    factory = construct(INFRASTRUCTURE_FACTORY=f"{third_party.name}:OtherFactory")
    assert type(factory) is third_party.module.OtherFactory


def test_unset_backend_means_the_default(
    third_party: ThirdParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert InfrastructureFactory.DEFAULT_INFRASTRUCTURE_FACTORY == "popo"
    # Stand a throwaway backend in for popo, which this distribution doesn't need.
    monkeypatch.setattr(
        InfrastructureFactory, "DEFAULT_INFRASTRUCTURE_FACTORY", "thirdparty"
    )
    assert type(construct()) is third_party.module.Factory
    assert type(construct(INFRASTRUCTURE_FACTORY="")) is third_party.module.Factory


def test_persistence_module_is_an_alias(third_party: ThirdParty) -> None:
    factory = construct(PERSISTENCE_MODULE="thirdparty")
    assert type(factory) is third_party.module.Factory
    factory = construct(INFRASTRUCTURE_FACTORY="", PERSISTENCE_MODULE="thirdparty")
    assert type(factory) is third_party.module.Factory


def test_application_prefixed_backend_wins(third_party: ThirdParty) -> None:
    factory = construct(
        INFRASTRUCTURE_FACTORY="nonesuch", MYAPP_INFRASTRUCTURE_FACTORY="thirdparty"
    )
    assert type(factory) is third_party.module.Factory


def test_env_defaults_to_os_environ(
    third_party: ThirdParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "thirdparty")
    factory = InfrastructureFactory.construct()
    assert type(factory) is third_party.module.Factory
    assert factory.getenv("INFRASTRUCTURE_FACTORY") == "thirdparty"


def test_unknown_backend_name_fails_naming_what_is_installed(
    third_party: ThirdParty,
) -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        construct(INFRASTRUCTURE_FACTORY="sqllite")
    message = str(exc_info.value)
    installed = ", ".join(installed_names("eventsourcing.infrastructure"))
    assert message.startswith(
        f"No persistence backend 'sqllite' (installed: {installed}). "
        "Is it misspelled, or is its distribution not installed? "
        "The built-in backends come from eventsourcing-popo, eventsourcing-sqlite "
        "and eventsourcing-postgres."
    )
    assert "thirdparty" in installed
    assert "INFRASTRUCTURE_FACTORY" in message
    assert isinstance(exc_info.value, ValueError)


def test_name_claimed_by_two_distributions_is_refused(third_party: ThirdParty) -> None:
    with pytest.raises(ConfigurationError, match="claimed by several") as exc_info:
        construct(INFRASTRUCTURE_FACTORY="twice")
    assert "eventsourcing-copycat, eventsourcing-third-party" in str(exc_info.value)


def test_entry_point_to_something_else_is_refused(third_party: ThirdParty) -> None:
    with pytest.raises(ConfigurationError, match="not a subclass of") as exc_info:
        construct(INFRASTRUCTURE_FACTORY="notafactory")
    assert "eventsourcing.persistence.InfrastructureFactory" in str(exc_info.value)


def test_topic_to_something_else_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'os:sep' gives '/'"):
        construct(INFRASTRUCTURE_FACTORY="os:sep")


def test_backend_of_another_family_is_refused(third_party: ThirdParty) -> None:
    with pytest.raises(ConfigurationError, match="not a subclass of"):
        third_party.module.OtherFactory.construct(
            env={"INFRASTRUCTURE_FACTORY": "thirdparty"}
        )


def test_entry_point_that_fails_to_load_is_reported_with_its_cause(
    third_party: ThirdParty,
) -> None:
    with pytest.raises(ConfigurationError, match="Could not load") as exc_info:
        construct(INFRASTRUCTURE_FACTORY="broken")
    assert isinstance(exc_info.value.__cause__, ModuleNotFoundError)


def test_unresolvable_topic_is_reported_with_its_cause() -> None:
    with pytest.raises(ConfigurationError, match="Could not resolve") as exc_info:
        construct(INFRASTRUCTURE_FACTORY="nowhere_at_all:Factory")
    assert exc_info.value.__cause__ is not None


def test_distribution_name_of_an_entry_point_without_distribution() -> None:
    entry_point = EntryPoint(name="x", value="m:C", group="g")
    assert _distribution_name(entry_point) == "<unknown distribution>"


def test_getenv_prefers_the_application_prefixed_variable(
    third_party: ThirdParty,
) -> None:
    factory = construct(
        INFRASTRUCTURE_FACTORY="thirdparty", SETTING="plain", MYAPP_SETTING="mine"
    )
    assert factory.getenv("SETTING") == "mine"
    assert factory.getenv("SETTING", application_name="") == "plain"
    assert factory.getenv("SETTING", application_name="Other") == "plain"
    assert factory.getenv("MISSING") is None
    assert factory.getenv("MISSING", "default") == "default"


def test_no_cipher_and_no_compressor_by_default(third_party: ThirdParty) -> None:
    factory = construct(INFRASTRUCTURE_FACTORY="thirdparty")
    assert factory.cipher() is None
    assert factory.compressor() is None
    mapper = factory.mapper(transcoder=JSONTranscoder())
    assert type(mapper) is Mapper
    assert (mapper.cipher, mapper.compressor) == (None, None)


def test_cipher_and_compressor_by_name(third_party: ThirdParty) -> None:
    factory = construct(
        INFRASTRUCTURE_FACTORY="thirdparty",
        CIPHER_TOPIC="reversing",
        CIPHER_KEY="secret",
        COMPRESSOR_TOPIC="zlib",
    )
    cipher = factory.cipher()
    assert type(cipher) is third_party.module.ReversingCipher
    assert cipher.cipher_key == "secret"  # type: ignore[union-attr]
    assert isinstance(factory.compressor(), ZlibCompressor)


def test_cipher_and_compressor_by_topic(third_party: ThirdParty) -> None:
    class MyMapper(Mapper):
        pass

    factory = construct(
        INFRASTRUCTURE_FACTORY="thirdparty",
        CIPHER_TOPIC=f"{third_party.name}:ReversingCipher",
        CIPHER_KEY="secret",
        COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor",
    )
    mapper = factory.mapper(transcoder=JSONTranscoder(), mapper_class=MyMapper)
    assert type(mapper) is MyMapper
    assert isinstance(mapper.cipher, Cipher)
    assert isinstance(mapper.compressor, ZlibCompressor)


def test_mapper_for_another_application_uses_that_applications_settings(
    third_party: ThirdParty,
) -> None:
    # A follower reads its leader's events with the leader's cipher and compressor.
    factory = construct(
        INFRASTRUCTURE_FACTORY="thirdparty",
        LEADER_CIPHER_TOPIC="reversing",
        LEADER_CIPHER_KEY="leader's key",
        LEADER_COMPRESSOR_TOPIC="zlib",
    )
    own = factory.mapper(transcoder=JSONTranscoder())
    assert (own.cipher, own.compressor) == (None, None)
    leaders = factory.mapper(transcoder=JSONTranscoder(), application_name="Leader")
    assert leaders.cipher.cipher_key == "leader's key"  # type: ignore[union-attr]
    assert isinstance(leaders.compressor, ZlibCompressor)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CIPHER_TOPIC": "aes"}, "CIPHER_TOPIC is set to 'aes' but CIPHER_KEY is not"),
        ({"CIPHER_KEY": "k"}, "CIPHER_KEY is not a valid key for the cipher 'aes'"),
        ({"CIPHER_OLD_KEYS": "k"}, "CIPHER_OLD_KEYS is set but CIPHER_KEY is not"),
        ({"CIPHER_TOPIC": "aez", "CIPHER_KEY": "k"}, "No cipher 'aez' (installed: "),
        ({"COMPRESSOR_TOPIC": "gzipp"}, "No compressor 'gzipp' (installed: "),
        ({"COMPRESSOR_TOPIC": "os:sep"}, "nor a module with compress()"),
        ({"COMPRESSOR_TOPIC": "os"}, "nor a module with compress()"),
    ],
)
def test_cipher_and_compressor_configuration_errors(
    third_party: ThirdParty, env: dict[str, str], message: str
) -> None:
    factory = construct(INFRASTRUCTURE_FACTORY="thirdparty", **env)
    with pytest.raises(ConfigurationError) as exc_info:
        factory.mapper(transcoder=JSONTranscoder())
    assert message in str(exc_info.value)


def test_compressor_names_its_origin(third_party: ThirdParty) -> None:
    factory = construct(INFRASTRUCTURE_FACTORY="thirdparty", COMPRESSOR_TOPIC="gzipp")
    with pytest.raises(
        ConfigurationError, match="'zlib' comes from eventsourcing-pers"
    ):
        factory.compressor()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("y", True),
        ("yes", True),
        ("n", False),
        ("0", False),
        ("", False),
    ],
)
def test_is_snapshotting_enabled(
    third_party: ThirdParty, value: str | None, expected: bool
) -> None:
    env: dict[str, Any] = {"INFRASTRUCTURE_FACTORY": "thirdparty"}
    if value is not None:
        env["IS_SNAPSHOTTING_ENABLED"] = value
    assert construct(**env).is_snapshotting_enabled() is expected


def test_invalid_snapshotting_value_names_the_variable(third_party: ThirdParty) -> None:
    factory = construct(
        INFRASTRUCTURE_FACTORY="thirdparty", IS_SNAPSHOTTING_ENABLED="maybe"
    )
    with pytest.raises(ConfigurationError, match="IS_SNAPSHOTTING_ENABLED='maybe'"):
        factory.is_snapshotting_enabled()


def test_event_store(third_party: ThirdParty) -> None:
    factory = construct(INFRASTRUCTURE_FACTORY="thirdparty")
    mapper = factory.mapper(transcoder=JSONTranscoder())
    recorder: Any = object()
    event_store = factory.event_store(mapper=mapper, recorder=recorder)
    assert isinstance(event_store, EventStore)
    assert (event_store.mapper, event_store.recorder) == (mapper, recorder)


def test_constants() -> None:
    assert InfrastructureFactory.INFRASTRUCTURE_FACTORY == "INFRASTRUCTURE_FACTORY"
    assert InfrastructureFactory.PERSISTENCE_MODULE == "PERSISTENCE_MODULE"
    assert InfrastructureFactory.CIPHER_TOPIC == "CIPHER_TOPIC"
    assert InfrastructureFactory.CIPHER_KEY == "CIPHER_KEY"
    assert InfrastructureFactory.COMPRESSOR_TOPIC == "COMPRESSOR_TOPIC"
    assert InfrastructureFactory.IS_SNAPSHOTTING_ENABLED == "IS_SNAPSHOTTING_ENABLED"
