"""The JSON transcoder and the built-in transcodings."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoder,
    Transcoding,
    TranscodingError,
    UnsupportedTypeError,
    UUIDAsHex,
)


def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    return transcoder


def test_transcodings_have_the_documented_names() -> None:
    assert (UUIDAsHex.name, UUIDAsHex.type) == ("uuid_hex", UUID)
    assert (DatetimeAsISO.name, DatetimeAsISO.type) == ("datetime_iso", datetime)
    assert (DecimalAsStr.name, DecimalAsStr.type) == ("decimal_str", Decimal)


def test_nested_custom_types_round_trip() -> None:
    state = {
        "ids": [uuid4(), uuid4()],
        "when": {"at": datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)},
        "amount": Decimal("10.50"),
        "plain": [1, 2.5, "three", None, True],
    }
    assert transcoder().decode(transcoder().encode(state)) == state


def test_encoding_is_the_documented_json() -> None:
    data = transcoder().encode({"id": UUID("b2723fe2c01a40d2875ea3aac6a09ff5")})
    assert data == (
        b'{"id": {"_type_": "uuid_hex", "_data_": "b2723fe2c01a40d2875ea3aac6a09ff5"}}'
    )


def test_non_ascii_text_is_utf8() -> None:
    data = transcoder().encode({"name": "Zoë"})
    assert data == '{"name": "Zoë"}'.encode()
    assert transcoder().decode(data) == {"name": "Zoë"}


def test_decode_accepts_memoryview() -> None:
    data = transcoder().encode({"a": Decimal("1.5")})
    assert transcoder().decode(memoryview(data)) == {"a": Decimal("1.5")}  # type: ignore[arg-type]


def test_subclass_of_registered_type_is_transcoded_like_its_base() -> None:
    class Money(Decimal):
        pass

    class Euros(Money):
        pass

    copy = transcoder().decode(transcoder().encode(Money("2.5")))
    assert copy == Decimal("2.5")
    copy = transcoder().decode(transcoder().encode(Euros("2.5")))
    assert copy == Decimal("2.5")
    assert type(copy) is Decimal


def test_dict_with_other_keys_than_type_and_data_is_left_alone() -> None:
    state = {"_type_": "x", "other": 1}
    assert transcoder().decode(transcoder().encode(state)) == state
    three = {"_type_": "x", "_data_": 1, "more": 2}
    assert transcoder().decode(transcoder().encode(three)) == three


def test_unregistered_type_cannot_be_encoded() -> None:
    with pytest.raises(TypeError, match="Object of type <class 'object'> is not") as e:
        JSONTranscoder().encode({"a": object()})
    # The documented TypeError is also the library's own error.
    assert isinstance(e.value, UnsupportedTypeError)
    assert isinstance(e.value, TranscodingError)


def test_unknown_transcoding_name_cannot_be_decoded() -> None:
    data = b'{"_type_": "money", "_data_": "1"}'
    with pytest.raises(TypeError) as exc_info:
        transcoder().decode(data)
    assert exc_info.value.args[0] == (
        "Data serialized with name 'money' is not deserializable. "
        "Please register a custom transcoding for this type."
    )
    assert exc_info.value.__cause__ is None
    assert isinstance(exc_info.value, UnsupportedTypeError)


def test_abstract_bases_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        Transcoder()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        Transcoding()  # type: ignore[abstract]


def test_registering_replaces_by_type_and_name() -> None:
    class UUIDAsInt(Transcoding):
        type = UUID
        name = "uuid_int"

        def encode(self, obj: UUID) -> int:
            return obj.int

        def decode(self, data: int) -> UUID:
            return UUID(int=data)

    t = transcoder()
    t.register(UUIDAsInt())
    uuid = uuid4()
    assert t.encode(uuid) == b'{"_type_": "uuid_int", "_data_": %d}' % uuid.int
    assert t.decode(t.encode(uuid)) == uuid
    # Data written before the change still decodes.
    assert t.decode(transcoder().encode(uuid)) == uuid


def test_decode_accepts_surrounding_whitespace() -> None:
    assert transcoder().decode(b' {"a": 1}') == {"a": 1}
    assert transcoder().decode(b'{"a": 1}\n') == {"a": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Expecting value"),
        (b"garbage", "Expecting value"),
        (b"{} []", "Extra data"),
    ],
)
def test_decode_of_invalid_json_raises_transcoding_error_from_json_decode_error(
    data: bytes, message: str
) -> None:
    with pytest.raises(TranscodingError, match="Data is not valid JSON") as e:
        transcoder().decode(data)
    assert isinstance(e.value.__cause__, json.JSONDecodeError)
    assert message in str(e.value)


def test_encode_top_level_values() -> None:
    t = transcoder()
    for value in ["text", 1, 1.5, None, True, [1, "a"], {"k": [{}]}]:
        assert t.decode(t.encode(value)) == value
    assert t.encode(float("nan")) == b"NaN"
