"""Transcoders serialise the state of domain events as bytes; transcodings teach them
non-basic types such as UUID, datetime and Decimal.

Exceptions::

    ValueError
     +-- TranscodingError           (bad data, or an object that cannot be encoded)
          +-- UnsupportedTypeError  (also a TypeError: no transcoding for it)
"""

from __future__ import annotations

import builtins
import json
import json.scanner
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence._nesting import (
    more_openers_than,
    nesting_depth,
    recursion_headroom,
)

__all__ = [
    "DatetimeAsISO",
    "DecimalAsStr",
    "JSONTranscoder",
    "Transcoder",
    "Transcoding",
    "TranscodingError",
    "UUIDAsHex",
    "UnsupportedTypeError",
]


class TranscodingError(ValueError):
    """Raised when a transcoder cannot decode bytes (they are not UTF-8, not JSON, or
    hold a transcoded object that does not decode) or cannot encode an object.

    .. versionadded:: 9.1.0
    """


class UnsupportedTypeError(TranscodingError, TypeError):
    """Raised for an object of a type that no registered transcoding encodes, and for
    data written by a transcoding that is not registered.

    It is a :class:`TypeError`, as the 9.1 documentation promises, and a
    :class:`TranscodingError`, so one ``except`` catches every transcoding problem.

    .. versionadded:: 9.1.0
    """


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

    Errors are :class:`TranscodingError` (a :class:`ValueError`), with the cause
    chained; an unregistered type or name is an :class:`UnsupportedTypeError` (also a
    :class:`TypeError`).
    """

    max_nesting_depth: int = 500
    """How deeply arrays and objects may nest in the JSON (each transcoded object is
    one level): :meth:`encode` refuses deeper structures, and :meth:`decode` makes
    room on the stack for data nested this deep.

    .. versionadded:: 9.1.0
    """

    def __init__(self) -> None:
        super().__init__()
        # The class's value (or a subclass's), on the instance: an attribute of the
        # instance is the faster look-up on the path of every encode() and decode().
        self.max_nesting_depth = self.max_nesting_depth
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
        """Encodes given object as a bytes array.

        Raises :class:`UnsupportedTypeError` for an object that no transcoding encodes
        and :class:`TranscodingError` for anything else that cannot be encoded, such
        as a structure nested deeper than :attr:`max_nesting_depth`.
        """
        try:
            try:
                text = "".join(self._iterencode(obj, 0))
            except RecursionError as error:
                text = self._encode_with_headroom(obj, error)
            # Nesting d deep takes 2*d characters, so short texts need no scan.
            if len(text) > 2 * self.max_nesting_depth:
                depth = self._depth_beyond_limit(text)
                if depth:
                    msg = (
                        f"Object is nested {depth} deep, deeper than the transcoder's "
                        f"max_nesting_depth ({self.max_nesting_depth}), so it could "
                        "not be decoded reliably. Please flatten it, or raise "
                        "max_nesting_depth of the transcoders that write and read it."
                    )
                    raise TranscodingError(msg)
            return text.encode("utf-8")
        except TranscodingError:
            raise
        except TypeError as error:
            msg = (
                f"Object is not serializable: {error}. Dict keys must be str, int, "
                "float, bool or None; values of other types need a registered "
                "custom transcoding."
            )
            raise UnsupportedTypeError(msg) from error
        except UnicodeEncodeError as error:
            msg = (
                f"Object is not serializable: {error}. A str in it holds a lone "
                "surrogate, which UTF-8 cannot encode: please remove it."
            )
            raise TranscodingError(msg) from error
        except ValueError as error:
            # Such as an int with more digits than sys.get_int_max_str_digits().
            msg = f"Object is not serializable: {error}."
            raise TranscodingError(msg) from error

    def decode(self, data: bytes) -> Any:
        """Decodes bytes array as previously encoded object.

        Raises :class:`TranscodingError` for data that is not what :meth:`encode`
        writes, and :class:`UnsupportedTypeError` for data written by a transcoding
        that is not registered.
        """
        try:
            # str() also accepts memoryview (psycopg2 bytea); bytes.decode() is the
            # faster call.
            text = data.decode() if type(data) is bytes else str(data, "utf-8")
            # Refused whatever the stack could hold, so that a store reads the same
            # on every Python (3.13's C scanner goes far deeper than 3.11's).
            if len(text) > 2 * self.max_nesting_depth:
                depth = self._depth_beyond_limit(text)
                if depth:
                    msg = (
                        f"Data is nested {depth} deep, deeper than the transcoder's "
                        f"max_nesting_depth ({self.max_nesting_depth}), so it is not "
                        "decoded. If it was written with a higher max_nesting_depth, "
                        "set that value on this transcoder to decode it."
                    )
                    raise TranscodingError(msg)
            try:
                try:
                    obj, end = self._scan_once(text, 0)
                except StopIteration:
                    end = -1
                if end != len(text):
                    # Leading or trailing whitespace, extra data or no JSON at all: let
                    # the full decoder deal with it (and raise its JSONDecodeError).
                    obj = self._decoder.decode(text)
            except RecursionError as error:
                obj = self._decode_with_headroom(text, error)
        except TranscodingError:
            raise
        except ValueError as error:
            raise _invalid_data(error) from error
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
                raise UnsupportedTypeError(msg)
        try:
            data = transcoding.encode(obj)
        except (RecursionError, TranscodingError):
            # Running out of stack is no fault of the transcoding: encode() retries.
            raise
        except Exception as error:
            msg = (
                f"Object of type {cls} could not be encoded by the transcoding "
                f"{type(transcoding).__qualname__} ({transcoding.name!r}): "
                f"{type(error).__name__}: {error}. Please fix its encode() method."
            )
            raise TranscodingError(msg) from error
        return {"_type_": transcoding.name, "_data_": data}

    def _decode_obj(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            name = obj["_type_"]
            try:
                transcoding = self.names[name]
            except (KeyError, TypeError):  # TypeError: a list or dict is unhashable
                raise _unknown_name(name) from None
            data = obj["_data_"]
            try:
                return transcoding.decode(data)
            except (RecursionError, TranscodingError):
                # Running out of stack is no fault of the data: decode() retries.
                raise
            except Exception as error:
                msg = (
                    f"Data serialized with name {name!r} could not be decoded by the "
                    f"transcoding {type(transcoding).__qualname__} (_data_ of type "
                    f"{type(data).__name__}): {type(error).__name__}: {error}. The "
                    "data is damaged, or the transcoding now reads a different "
                    "representation: give a changed transcoding a new name and keep "
                    "the old one registered for old data."
                )
                raise TranscodingError(msg) from error
        return obj

    def _depth_beyond_limit(self, text: str) -> int:
        """How deeply text nests if that is deeper than the limit, else 0."""
        limit = self.max_nesting_depth
        # An upper bound first, since an exact scan is slow and rarely needed.
        if more_openers_than(limit, text):
            depth = nesting_depth(text)
            if depth > limit:
                return depth
        return 0

    def _encode_with_headroom(self, obj: Any, error: RecursionError) -> str:
        # The encoder recurses once for each level of nesting, so data nested up to
        # the limit may still fail when encoded from deep in the stack: retry with
        # room for it. A structure that contains itself fails again.
        with recursion_headroom(self.max_nesting_depth):
            try:
                return "".join(self._iterencode(obj, 0))
            except RecursionError:
                pass
        # Since Python 3.12 the C accelerator's recursion has a fixed limit of its own
        # (about 1500 levels in 3.12) that no headroom raises, but the pure-Python
        # encoder (iterencode() without _one_shot) honours the recursion limit.
        with recursion_headroom(_PYTHON_FRAMES_PER_LEVEL * self.max_nesting_depth):
            try:
                return "".join(self._encoder.iterencode(obj))
            except RecursionError:
                pass
        msg = (
            "Object could not be encoded within Python's recursion limit: it "
            "contains itself (a list or dict inside itself), or it is nested far "
            f"deeper than max_nesting_depth ({self.max_nesting_depth}), or a "
            "transcoding's encode() recurses without end."
        )
        raise TranscodingError(msg) from error

    def _python_decoder(self) -> json.JSONDecoder:
        decoder = json.JSONDecoder(object_hook=self._decode_obj)
        # The pure-Python scanner, which the C one replaces when it is available.
        decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]  # typeshed doesn't declare scan_once
        return decoder

    def _decode_with_headroom(self, text: str, error: RecursionError) -> Any:
        # decode() refused data nested deeper than the limit, so this data must
        # decode even from deep in the stack.
        limit = self.max_nesting_depth
        with recursion_headroom(limit):
            try:
                return self._decoder.decode(text)
            except RecursionError:
                pass
        # As for encoding: the C scanner's own recursion limit (Python 3.12+) stops
        # data that the pure-Python scanner decodes within the recursion limit.
        with recursion_headroom(_PYTHON_FRAMES_PER_LEVEL * limit):
            try:
                return self._python_decoder().decode(text)
            except RecursionError:
                pass
        msg = (
            f"Data nested {nesting_depth(text)} deep could not be decoded within "
            "Python's recursion limit: does a transcoding's decode() recurse without "
            "end?"
        )
        raise TranscodingError(msg) from error


# The pure-Python encoder and scanner call up to three functions for each level of
# nesting (a transcoded object: _iterencode, default, _iterencode_dict).
_PYTHON_FRAMES_PER_LEVEL = 3


def _unknown_name(name: object) -> UnsupportedTypeError:
    if isinstance(name, str):
        msg = (
            f"Data serialized with name {name!r} is not deserializable. "
            "Please register a custom transcoding for this type."
        )
    else:
        msg = (
            f"Data serialized with name {name!r} is not deserializable: the name of "
            f"a transcoding is a str, not a {type(name).__name__}. A dict with "
            "exactly the keys '_type_' and '_data_' is read as a transcoded object; "
            "please rename the keys of such dicts in the events that wrote it."
        )
    return UnsupportedTypeError(msg)


def _invalid_data(error: ValueError) -> TranscodingError:
    if isinstance(error, UnicodeDecodeError):
        msg = (
            f"Data is not UTF-8 encoded JSON ({error}). It is damaged, or still "
            "compressed or encrypted: check the compressor and cipher settings."
        )
    elif isinstance(error, json.JSONDecodeError):
        msg = (
            f"Data is not valid JSON ({error}). It is damaged, or still compressed "
            "or encrypted: check the compressor and cipher settings."
        )
    else:
        # Such as an int with more digits than sys.get_int_max_str_digits().
        msg = f"Data could not be decoded: {error}."
    return TranscodingError(msg)


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
        # Decimal() also takes ints, floats and tuples, which this never writes.
        if not isinstance(data, str):
            msg = f"Decimal data must be a str such as '9.99', not {type(data)}"
            raise TypeError(msg)
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
