"""The infrastructure factory constructs mappers, recorders and event stores for
an application, configured by environment variables."""

from __future__ import annotations

import difflib
import inspect
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

from eventsourcing.persistence._coordination import (
    InProcessLeases,
    InProcessWakeup,
    Leases,
    Wakeup,
)
from eventsourcing.persistence._environment import Environment
from eventsourcing.persistence._errors import ConfigurationError, NotSupportedError
from eventsourcing.persistence._eventstore import EventStore
from eventsourcing.persistence._mapper import Cipher, Compressor, Mapper
from eventsourcing.persistence._plugins import (
    CIPHER_GROUP,
    COMPRESSOR_GROUP,
    INFRASTRUCTURE_GROUP,
    entry_points,
    load_plugin,
    load_plugin_object,
)
from eventsourcing.persistence._tracking import TrackingRecorder
from eventsourcing.utils import strtobool

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.persistence._recorders import (
        AggregateRecorder,
        ApplicationRecorder,
        ProcessRecorder,
    )
    from eventsourcing.persistence._records import StoredEvent
    from eventsourcing.persistence._transcoding import Transcoder

__all__ = ["InfrastructureFactory", "StoreUpgrade"]

logger = logging.getLogger("eventsourcing.persistence")

TTrackingRecorder = TypeVar("TTrackingRecorder", bound=TrackingRecorder)

# The cipher that "CIPHER_KEY" alone selects, as in eventsourcing 9.1.
_DEFAULT_CIPHER = "aes"
_FACTORY_VARIABLES = ("INFRASTRUCTURE_FACTORY", "PERSISTENCE_MODULE")


@dataclass(frozen=True)
class StoreUpgrade:
    """What :meth:`InfrastructureFactory.upgrade` did.

    .. versionadded:: 9.1.0
    """

    events: int
    """Events written again."""
    snapshots: int
    """Snapshots written again."""
    tracking: int
    """Tracking records kept (copied where the layout changed)."""
    changes: tuple[str, ...] = ()
    """What changed besides the records' state, for people."""
    backup: str | None = None
    """Where a copy of the store as it was is kept, if one was made."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Settings that open the upgraded store (when it was made elsewhere)."""


class _ModuleCompressor(Compressor):
    """A module (or object) with ``compress()`` and ``decompress()`` functions, such
    as :mod:`zlib`, :mod:`bz2` or :mod:`lzma`, used as a compressor (9.1 style)."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({getattr(self.module, '__name__', self.module)!r})"
        )

    def compress(self, data: bytes) -> bytes:
        """Compress bytes."""
        result: bytes = self.module.compress(data)
        return result

    def decompress(self, data: bytes) -> bytes:
        """Decompress bytes."""
        result: bytes = self.module.decompress(data)
        return result


class InfrastructureFactory(ABC):
    """Abstract base class for infrastructure factories.

    A backend subclasses it and registers the subclass as an entry point in the group
    ``eventsourcing.infrastructure``; "INFRASTRUCTURE_FACTORY" then selects it by name.
    """

    INFRASTRUCTURE_FACTORY = "INFRASTRUCTURE_FACTORY"
    TOPIC = INFRASTRUCTURE_FACTORY
    """The name 9.1 gives "INFRASTRUCTURE_FACTORY"."""
    PERSISTENCE_MODULE = "PERSISTENCE_MODULE"
    """Alias of "INFRASTRUCTURE_FACTORY", read by later releases of the library."""
    DEFAULT_INFRASTRUCTURE_FACTORY = "popo"
    CIPHER_TOPIC = "CIPHER_TOPIC"
    CIPHER_KEY = "CIPHER_KEY"
    CIPHER_OLD_KEYS = "CIPHER_OLD_KEYS"
    """Keys that decrypt what they encrypted before "CIPHER_KEY" replaced them."""
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
            _warn_of_misspelt_variables(env, application_name)
        factory_cls: type[Self] = load_plugin(
            INFRASTRUCTURE_GROUP, value, cls, variable
        )
        factory = factory_cls(application_name=application_name, env=env)
        logger.info(
            "Application %r uses the persistence backend %r (%s=%r): %r",
            application_name,
            factory_cls.__qualname__,
            variable,
            value,
            factory,
        )
        return factory

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        """Initialises infrastructure factory object with given application name."""
        self.application_name = application_name
        self.env = env if isinstance(env, Environment) else Environment(env)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(application_name={self.application_name!r})"

    def close(self) -> None:  # noqa: B027 (optional: a backend may hold nothing open)
        """Closes what the factory opened (connections, files); the recorders it
        made cannot be used afterwards. Does nothing for backends that hold
        nothing open.

        .. versionadded:: 9.1.0
        """

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
        mapper = mapper_class(
            transcoder=transcoder,
            cipher=self.cipher(application_name),
            compressor=self.compressor(application_name),
        )
        mapper.application_name = application_name or self.application_name
        return mapper

    def cipher(self, application_name: str | None = None) -> Cipher | None:
        """Reads environment variables "CIPHER_TOPIC", "CIPHER_KEY" and
        "CIPHER_OLD_KEYS" to decide whether or not to construct a cipher.

        "CIPHER_TOPIC" is an entry-point name (``"aes"``) or a topic; unset, with
        "CIPHER_KEY" set, it means ``"aes"`` (as in 9.1). "CIPHER_OLD_KEYS" lists
        keys (comma-separated) that still decrypt what they encrypted, after a key
        rotation. "CIPHER_TOPIC" without a key raises :class:`ConfigurationError`.
        """
        topic = self.getenv(self.CIPHER_TOPIC, application_name=application_name)
        key = self.getenv(self.CIPHER_KEY, application_name=application_name)
        old_keys = self.getenv(self.CIPHER_OLD_KEYS, application_name=application_name)
        if not topic and not key:
            if old_keys:
                msg = (
                    f"{self.CIPHER_OLD_KEYS} is set but {self.CIPHER_KEY} is not: "
                    f"set {self.CIPHER_KEY} to the key that encrypts new events."
                )
                raise ConfigurationError(msg)
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
            if _DEFAULT_CIPHER not in entry_points(CIPHER_GROUP):
                msg = (
                    f"{self.CIPHER_KEY} is set, which means the AES cipher, but "
                    "eventsourcing-cipher is not installed: install it, or set "
                    f"{self.CIPHER_TOPIC} to another cipher, or unset "
                    f"{self.CIPHER_KEY} to store events unencrypted."
                )
                raise ConfigurationError(msg)
            topic = _DEFAULT_CIPHER
        cipher_cls: type[Cipher] = load_plugin(
            CIPHER_GROUP, topic, Cipher, self.CIPHER_TOPIC
        )
        if not old_keys:
            try:
                return cipher_cls(cipher_key=key)
            except (TypeError, ValueError) as e:
                msg = (
                    f"{self.CIPHER_KEY} is not a valid key for the cipher {topic!r}: "
                    f"{e}"
                )
                raise ConfigurationError(msg) from e
        keys = [k.strip() for k in old_keys.split(",") if k.strip()]
        try:
            return cipher_cls(cipher_key=key, old_keys=keys)  # type: ignore[call-arg]  # a rotating cipher takes old_keys
        except TypeError as e:
            msg = (
                f"{self.CIPHER_OLD_KEYS} is set but the cipher {cipher_cls.__name__} "
                f"does not take old keys ({e}); unset {self.CIPHER_OLD_KEYS}."
            )
            raise ConfigurationError(msg) from e
        except ValueError as e:
            msg = (
                f"{self.CIPHER_KEY} or {self.CIPHER_OLD_KEYS} is not a valid key for "
                f"the cipher {topic!r}: {e}"
            )
            raise ConfigurationError(msg) from e

    def compressor(self, application_name: str | None = None) -> Compressor | None:
        """Reads environment variable "COMPRESSOR_TOPIC" to decide whether or not to
        construct a compressor.

        "COMPRESSOR_TOPIC" is an entry-point name (``"zlib"``), a topic of a
        :class:`Compressor` class, or (as in 9.1) the name or topic of a module with
        ``compress()`` and ``decompress()`` functions (``"bz2"``, ``"lzma"``).
        """
        topic = self.getenv(self.COMPRESSOR_TOPIC, application_name=application_name)
        if not topic:
            return None
        obj = load_plugin_object(COMPRESSOR_GROUP, topic, self.COMPRESSOR_TOPIC)
        if isinstance(obj, type) and issubclass(obj, Compressor):
            return obj()
        if callable(getattr(obj, "compress", None)) and callable(
            getattr(obj, "decompress", None)
        ):
            return _ModuleCompressor(obj)
        msg = (
            f"{self.COMPRESSOR_TOPIC}={topic!r} gives {obj!r:.100}, which is neither a "
            "subclass of eventsourcing.persistence.Compressor nor a module with "
            "compress() and decompress() functions. Name a compressor instead."
        )
        raise ConfigurationError(msg)

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

    tracking_recorder_base: type[TrackingRecorder] | None = None
    """The backend's tracking recorder class, from which its views derive (``None``:
    the backend has none)."""

    @overload
    def tracking_recorder(self) -> TrackingRecorder: ...

    # Typed as a callable, so that an abstract view (an interface) type-checks.
    @overload
    def tracking_recorder(
        self, tracking_recorder_class: Callable[..., TTrackingRecorder]
    ) -> TTrackingRecorder: ...

    def tracking_recorder(
        self, tracking_recorder_class: Callable[..., TrackingRecorder] | None = None
    ) -> TrackingRecorder:
        """Constructs a tracking recorder, which records how far the logs of
        applications have been processed: the backend's own
        (:attr:`tracking_recorder_base`), or ``tracking_recorder_class`` (a view:
        a subclass of the backend's tracking recorder with tables of its own),
        or, when that class is an interface (not derived from the backend's
        tracking recorder), its implementation for this backend: the concrete
        subclass of both nearest to the interface.

        A backend without tracking recorders raises :class:`NotImplementedError`
        (subscriptions work with any backend). A backend provides them by setting
        :attr:`tracking_recorder_base` and, if its recorders take arguments,
        overriding ``_construct_tracking_recorder(cls)``.

        .. versionadded:: 9.1.0
        """
        base = self.tracking_recorder_base
        if base is None:
            msg = (
                f"The persistence backend {type(self).__qualname__} has no tracking "
                "recorders, so it cannot keep the position of a projection: keep "
                "the view in another backend (set INFRASTRUCTURE_FACTORY prefixed "
                "with the projection's name, such as "
                "MYPROJECTION_INFRASTRUCTURE_FACTORY=sqlite), or give the backend "
                "a tracking recorder (InfrastructureFactory.tracking_recorder_base)"
            )
            raise NotImplementedError(msg)
        cls = self._find_tracking_recorder_class(tracking_recorder_class, base)
        return self._construct_tracking_recorder(cls)

    def _construct_tracking_recorder(
        self, cls: type[TrackingRecorder]
    ) -> TrackingRecorder:
        """Constructs the tracking recorder class (by default, with no arguments)."""
        return cls()

    def _find_tracking_recorder_class(
        self, requested: object, base: type[TrackingRecorder]
    ) -> type[TrackingRecorder]:
        if requested is None:
            return base
        if not (
            isinstance(requested, type) and issubclass(requested, TrackingRecorder)
        ):
            msg = (
                f"{requested!r:.100} is not a tracking recorder class: a view derives "
                f"from the backend's tracking recorder, {base.__qualname__}"
            )
            raise TypeError(msg)
        if issubclass(requested, base) and not inspect.isabstract(requested):
            return requested
        concrete = [
            cls
            for cls in _subclasses(requested)
            if issubclass(cls, base) and not inspect.isabstract(cls)
        ]
        # The implementation is the one nearest the interface: a subclass of it
        # (a variant, made for a test, say) is not another implementation.
        found = [
            cls
            for cls in concrete
            if not any(
                other is not cls and issubclass(cls, other) for other in concrete
            )
        ]
        if len(found) == 1:
            return found[0]
        if not found:
            msg = (
                f"No implementation of {requested.__qualname__} for the persistence "
                f"backend {type(self).__qualname__} of {self.application_name!r}: "
                f"define a concrete subclass of both {requested.__qualname__} and "
                f"{base.__qualname__}, and import it before constructing the view"
            )
        else:
            names = ", ".join(sorted(cls.__qualname__ for cls in found))
            msg = (
                f"Several implementations of {requested.__qualname__} for the "
                f"persistence backend {type(self).__qualname__} of "
                f"{self.application_name!r}: {names}. Give the one to use"
            )
        raise ConfigurationError(msg)

    def wakeup(self, recorder: ApplicationRecorder) -> Wakeup:
        """Returns a wake-up for readers of the recorder's notification log.

        By default, commits in this process wake its readers; a backend that can
        tell readers in other processes (PostgreSQL notifies) overrides this.

        .. versionadded:: 9.1.0
        """
        return InProcessWakeup(recorder.wakeup_key())

    def leases(self) -> Leases:
        """Returns leases for workers that share work through this backend.

        By default they are held in this process; a backend whose storage is
        shared between processes overrides this with leases they all see.

        .. versionadded:: 9.1.0
        """
        return InProcessLeases(scope=(type(self), self.application_name))

    def upgrade(
        self, reseal: Callable[[StoredEvent], bytes], *, into: str | None = None
    ) -> StoreUpgrade:
        """Writes every stored record of the application (events and snapshots)
        again with the state ``reseal`` returns, and converts the store's layout
        where it has an older one, all in one transaction, so that an
        interrupted upgrade changes nothing. ``into`` asks for the result in a new
        store (a new file, say) rather than in place.

        Backends whose stores can be rewritten implement it (SQLite, PostgreSQL);
        by default it raises :class:`NotSupportedError`.

        .. versionadded:: 9.1.0
        """
        msg = (
            f"The persistence backend {type(self).__module__} cannot upgrade a store "
            "in place: copy the events into a new application instead"
        )
        raise NotSupportedError(msg)

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


def _subclasses(cls: type) -> list[type]:
    found: dict[type, None] = {}
    pending: list[type] = list(cls.__subclasses__())
    while pending:
        sub = pending.pop()
        if sub not in found:
            found[sub] = None
            pending.extend(sub.__subclasses__())
    return list(found)


def _getenv(
    env: Mapping[str, str], application_name: str, key: str, default: str | None = None
) -> str | None:
    if application_name:
        prefixed = f"{application_name.upper()}_{key}"
        if prefixed in env:
            return env[prefixed]
    return env.get(key, default)


def _warn_of_misspelt_variables(env: Mapping[str, str], application_name: str) -> None:
    """Warn when no backend is chosen but a variable looks like a misspelt choice."""
    suspects = []
    for name in env:
        upper = name.upper()
        if any(upper.endswith(v) for v in _FACTORY_VARIABLES) and (
            upper not in _FACTORY_VARIABLES
        ):
            continue  # another application's own choice
        if upper in _FACTORY_VARIABLES:
            continue  # set, but empty
        close = difflib.get_close_matches(upper, _FACTORY_VARIABLES, n=1, cutoff=0.8)
        if close or "INFRASTRUCTURE" in upper or "PERSISTENCE_MOD" in upper:
            suspects.append(name)
    if suspects:
        logger.warning(
            "Application %r stores its events in memory (the default backend "
            "'popo'), although %s %s set: did you mean INFRASTRUCTURE_FACTORY?",
            application_name,
            ", ".join(sorted(suspects)),
            "is" if len(suspects) == 1 else "are",
        )
