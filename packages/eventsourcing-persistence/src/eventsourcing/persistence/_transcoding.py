"""Transcoders serialise the state of domain events as bytes; transcodings teach them
non-basic types such as UUID, datetime and Decimal."""

from __future__ import annotations

import builtins
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

__all__ = [
    "DatetimeAsISO",
    "DecimalAsStr",
    "JSONTranscoder",
    "Transcoder",
    "Transcoding",
    "UUIDAsHex",
]


class Transcoding(ABC):
    """Abstract base class for custom transcodings.

    Subclasses set the class attributes :attr:`~Transcoding.type` (the transcoded
    type) and :attr:`~Transcoding.name` (the name recorded with the data, so it must
    never change).
    """

    type: ClassVar[builtins.type[Any]]
    """Object type of transcoded object."""

    name: ClassVar[str]
    """Name of transcoding."""

    @abstractmethod
    def encode(self, obj: Any) -> Any:
        """Encodes given object."""

    @abstractmethod
    def decode(self, data: Any) -> Any:
        """Decodes encoded object."""


class Transcoder(ABC):
    """Abstract base class for transcoders."""

    def __init__(self) -> None:
        self.types: dict[builtins.type[Any], Transcoding] = {}
        self.names: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        """Registers given transcoding with the transcoder."""
        self.types[transcoding.type] = transcoding
        self.names[transcoding.name] = transcoding

    @abstractmethod
    def encode(self, obj: Any) -> bytes:
        """Encodes obj as bytes."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """Decodes obj from bytes."""


class JSONTranscoder(Transcoder):
    """Extensible transcoder that uses the Python :mod:`json` module.

    An object of a registered type is written as ``{"_type_": name, "_data_": data}``
    where ``data`` is what the transcoding's ``encode()`` returned, itself transcoded
    recursively. The C accelerated encoder and scanner of :mod:`json` do the work, so
    the transcodings are only called for the non-basic objects.
    """

    def __init__(self) -> None:
        super().__init__()
        self._encoder = json.JSONEncoder(
            default=self._encode_obj, ensure_ascii=False, check_circular=False
        )
        self._decoder = json.JSONDecoder(object_hook=self._decode_obj)
        # JSONDecoder.__init__ sets scan_once, but typeshed's stub doesn't declare it.
        scan_once = self._decoder.scan_once  # type: ignore[attr-defined]
        self._scan_once: Callable[[str, int], tuple[Any, int]] = scan_once
        # JSONEncoder.encode() builds a new C encoder for every call; build it once.
        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
        if c_make_encoder is not None:
            self._iterencode = c_make_encoder(
                None,  # no circular reference markers
                self._encode_obj,
                json.encoder.encode_basestring,  # not ASCII-only
                None,  # no indent
                ": ",
                ", ",
                False,  # sort_keys
                False,  # skipkeys
                True,  # allow_nan
            )
        else:  # pragma: no cover (only on Pythons without json's C accelerator)
            self._iterencode = lambda obj, _: self._encoder.iterencode(obj)

    def encode(self, obj: Any) -> bytes:
        """Encodes given object as a bytes array."""
        return "".join(self._iterencode(obj, 0)).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        """Decodes bytes array as previously encoded object."""
        # str() rather than bytes.decode() also accepts memoryview (psycopg2 bytea).
        text = str(data, "utf-8")
        try:
            obj, end = self._scan_once(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            # Leading or trailing whitespace, extra data or no JSON at all: let the
            # full decoder deal with it (and raise its detailed JSONDecodeError).
            return self._decoder.decode(text)
        return obj

    def _encode_obj(self, obj: Any) -> dict[str, Any]:
        cls = type(obj)
        transcoding = self.types.get(cls)
        if transcoding is None:
            # A subclass of a registered type is transcoded like its base class.
            for base in cls.__mro__[1:]:
                transcoding = self.types.get(base)
                if transcoding is not None:
                    break
            else:
                msg = (
                    f"Object of type {cls} is not serializable. "
                    "Please define and register a custom transcoding for this type."
                )
                raise TypeError(msg)
        return {"_type_": transcoding.name, "_data_": transcoding.encode(obj)}

    def _decode_obj(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            name = obj["_type_"]
            try:
                transcoding = self.names[name]
            except KeyError:
                msg = (
                    f"Data serialized with name {name!r} is not deserializable. "
                    "Please register a custom transcoding for this type."
                )
                raise TypeError(msg) from None
            return transcoding.decode(obj["_data_"])
        return obj


class UUIDAsHex(Transcoding):
    """Transcoding that represents :class:`~uuid.UUID` objects as hex values."""

    type = UUID
    name = "uuid_hex"

    def encode(self, obj: UUID) -> str:
        """Encodes given object."""
        return obj.hex

    def decode(self, data: str) -> UUID:
        """Decodes encoded object."""
        return UUID(data)


class DecimalAsStr(Transcoding):
    """Transcoding that represents :class:`~decimal.Decimal` objects as strings."""

    type = Decimal
    name = "decimal_str"

    def encode(self, obj: Decimal) -> str:
        """Encodes given object."""
        return str(obj)

    def decode(self, data: str) -> Decimal:
        """Decodes encoded object."""
        return Decimal(data)


class DatetimeAsISO(Transcoding):
    """Transcoding that represents :class:`~datetime.datetime` objects as ISO
    strings."""

    type = datetime
    name = "datetime_iso"

    def encode(self, obj: datetime) -> str:
        """Encodes given object."""
        return obj.isoformat()

    def decode(self, data: str) -> datetime:
        """Decodes encoded object."""
        return datetime.fromisoformat(data)
