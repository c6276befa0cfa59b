"""The infrastructure factory constructs mappers, recorders and event stores for
an application, configured by environment variables."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Self

from eventsourcing.persistence._errors import ConfigurationError
from eventsourcing.persistence._eventstore import EventStore
from eventsourcing.persistence._mapper import Cipher, Compressor, Mapper
from eventsourcing.persistence._plugins import (
    CIPHER_GROUP,
    COMPRESSOR_GROUP,
    INFRASTRUCTURE_GROUP,
    load_plugin,
)
from eventsourcing.utils import strtobool

if TYPE_CHECKING:
    from collections.abc import Mapping

    from eventsourcing.persistence._recorders import (
        AggregateRecorder,
        ApplicationRecorder,
        ProcessRecorder,
    )
    from eventsourcing.persistence._transcoding import Transcoder

__all__ = ["InfrastructureFactory"]


class InfrastructureFactory(ABC):
    """Abstract base class for infrastructure factories.

    A backend subclasses it and registers the subclass as an entry point in the group
    ``eventsourcing.infrastructure``; "INFRASTRUCTURE_FACTORY" then selects it by name.
    """

    INFRASTRUCTURE_FACTORY = "INFRASTRUCTURE_FACTORY"
    PERSISTENCE_MODULE = "PERSISTENCE_MODULE"
    """Alias of "INFRASTRUCTURE_FACTORY", read by later releases of the library."""
    DEFAULT_INFRASTRUCTURE_FACTORY = "popo"
    CIPHER_TOPIC = "CIPHER_TOPIC"
    CIPHER_KEY = "CIPHER_KEY"
    COMPRESSOR_TOPIC = "COMPRESSOR_TOPIC"
    IS_SNAPSHOTTING_ENABLED = "IS_SNAPSHOTTING_ENABLED"

    @classmethod
    def construct(
        cls, application_name: str = "", env: Mapping[str, str] | None = None
    ) -> Self:
        """Constructs concrete infrastructure factory for given named application.

        Reads the backend from environment variable "INFRASTRUCTURE_FACTORY" (or its
        alias "PERSISTENCE_MODULE"): an entry-point name such as ``"sqlite"`` or a
        topic such as ``"eventsourcing.sqlite:Factory"``; unset means ``"popo"``.
        ``env`` defaults to :data:`os.environ`.
        """
        if env is None:
            env = os.environ
        variable = cls.INFRASTRUCTURE_FACTORY
        value = _getenv(env, application_name, variable)
        if not value:
            variable = cls.PERSISTENCE_MODULE
            value = _getenv(env, application_name, variable)
        if not value:
            variable = cls.INFRASTRUCTURE_FACTORY
            value = cls.DEFAULT_INFRASTRUCTURE_FACTORY
        factory_cls: type[Self] = load_plugin(
            INFRASTRUCTURE_GROUP, value, cls, variable
        )
        return factory_cls(application_name=application_name, env=env)

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        """Initialises infrastructure factory object with given application name."""
        self.application_name = application_name
        self.env = env

    def getenv(
        self, key: str, default: str | None = None, application_name: str | None = None
    ) -> str | None:
        """Returns value of environment variable defined by given key.

        A variable prefixed with the application name in upper case (for example
        "WORLDS_SQLITE_DBNAME") wins over the plain one ("SQLITE_DBNAME").
        """
        if application_name is None:
            application_name = self.application_name
        return _getenv(self.env, application_name, key, default)

    def mapper(
        self,
        transcoder: Transcoder,
        mapper_class: type[Mapper] = Mapper,
        application_name: str | None = None,
    ) -> Mapper:
        """Constructs a mapper, with the cipher and compressor that the environment
        configures for ``application_name`` (by default, this factory's
        application; a follower passes the name of the leader it reads)."""
        return mapper_class(
            transcoder=transcoder,
            cipher=self.cipher(application_name),
            compressor=self.compressor(application_name),
        )

    def cipher(self, application_name: str | None = None) -> Cipher | None:
        """Reads environment variables "CIPHER_TOPIC" and "CIPHER_KEY" to decide
        whether or not to construct a cipher.

        "CIPHER_TOPIC" is an entry-point name (``"aes"``) or a topic. Setting only
        one of the two variables raises :class:`ConfigurationError`.
        """
        topic = self.getenv(self.CIPHER_TOPIC, application_name=application_name)
        key = self.getenv(self.CIPHER_KEY, application_name=application_name)
        if not topic and not key:
            return None
        if not key:
            msg = (
                f"{self.CIPHER_TOPIC} is set to {topic!r} but {self.CIPHER_KEY} is "
                f"not set. Set {self.CIPHER_KEY} to the cipher's key "
                "(AESCipher.create_key() makes one), or unset "
                f"{self.CIPHER_TOPIC} to store events unencrypted."
            )
            raise ConfigurationError(msg)
        if not topic:
            msg = (
                f"{self.CIPHER_KEY} is set but {self.CIPHER_TOPIC} is not. Set "
                f"{self.CIPHER_TOPIC} to a cipher name (such as 'aes', from "
                f"eventsourcing-cipher) or topic, or unset {self.CIPHER_KEY} to store "
                "events unencrypted."
            )
            raise ConfigurationError(msg)
        cipher_cls: type[Cipher] = load_plugin(
            CIPHER_GROUP, topic, Cipher, self.CIPHER_TOPIC
        )
        return cipher_cls(cipher_key=key)

    def compressor(self, application_name: str | None = None) -> Compressor | None:
        """Reads environment variable "COMPRESSOR_TOPIC" to decide whether or not to
        construct a compressor.

        "COMPRESSOR_TOPIC" is an entry-point name (``"zlib"``) or a topic.
        """
        topic = self.getenv(self.COMPRESSOR_TOPIC, application_name=application_name)
        if not topic:
            return None
        compressor_cls: type[Compressor] = load_plugin(
            COMPRESSOR_GROUP, topic, Compressor, self.COMPRESSOR_TOPIC
        )
        return compressor_cls()

    def event_store(self, **kwargs: Any) -> EventStore:
        """Constructs an event store (keyword arguments ``mapper`` and ``recorder``)."""
        return EventStore(**kwargs)

    @abstractmethod
    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        """Constructs an aggregate recorder (``purpose`` is, for example, "events"
        or "snapshots", and keeps their records apart)."""

    @abstractmethod
    def application_recorder(self) -> ApplicationRecorder:
        """Constructs an application recorder."""

    @abstractmethod
    def process_recorder(self) -> ProcessRecorder:
        """Constructs a process recorder."""

    def is_snapshotting_enabled(self) -> bool:
        """Decides whether or not snapshotting is enabled by reading environment
        variable "IS_SNAPSHOTTING_ENABLED". Snapshotting is not enabled by default."""
        value = self.getenv(self.IS_SNAPSHOTTING_ENABLED, "no") or "no"
        try:
            return bool(strtobool(value))
        except ValueError as e:
            msg = (
                f"{self.IS_SNAPSHOTTING_ENABLED}={value!r} is not a truth value. Use "
                "one of 'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', "
                "'off', '0'."
            )
            raise ConfigurationError(msg) from e


def _getenv(
    env: Mapping[str, str], application_name: str, key: str, default: str | None = None
) -> str | None:
    if application_name:
        prefixed = f"{application_name.upper()}_{key}"
        if prefixed in env:
            return env[prefixed]
    return env.get(key, default)
