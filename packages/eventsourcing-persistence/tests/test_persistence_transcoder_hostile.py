"""The JSON transcoder against hostile and broken data: every failure is a
TranscodingError with its cause chained, and nesting is bounded on the way in so
that what is written can always be read back."""

from __future__ import annotations

import json
import sys
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingError,
    UnsupportedTypeError,
    UUIDAsHex,
)

T = TypeVar("T")

# No example database in the worktree, and no deadline on a busy machine.
fuzz = settings(
    database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    return transcoder


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def stack_depth() -> int:
    frame = sys._getframe(1)
    depth = 1
    while frame.f_back is not None:
        frame = frame.f_back
        depth += 1
    return depth


def call_at_stack_depth(depth: int, func: Callable[[], T]) -> T:
    """Calls ``func`` with about ``depth`` frames on the stack."""

    def descend(levels: int) -> T:
        if levels <= 0:
            return func()
        return descend(levels - 1)

    return descend(depth - stack_depth())


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class Failing(Transcoding):
    """A transcoding whose methods raise whatever it is given."""

    type = Money
    name = "money"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def encode(self, obj: Money) -> int:
        raise self.error

    def decode(self, data: int) -> Money:
        raise self.error


class Endless(Transcoding):
    """A transcoding that recurses without end."""

    type = Money
    name = "money"

    def encode(self, obj: Money) -> int:
        return self.encode(obj)

    def decode(self, data: int) -> Money:
        return self.decode(data)


class Itself(Transcoding):
    """A transcoding that returns the object it is given, so encoding never ends."""

    type = Money
    name = "money"

    def encode(self, obj: Money) -> Money:
        return obj

    def decode(self, data: int) -> Money:  # pragma: no cover (never written)
        return Money(data)


def test_unsupported_type_error_is_a_type_and_a_transcoding_error() -> None:
    assert issubclass(TranscodingError, ValueError)
    assert issubclass(UnsupportedTypeError, TranscodingError)
    assert issubclass(UnsupportedTypeError, TypeError)


# Decoding bytes that are not what the transcoder writes.


@pytest.mark.parametrize(
    "data",
    [b"\xff", b'{"a": "\xc3"}', zlib.compress(b'{"a": 1}' * 10)],
    ids=["invalid start byte", "truncated character", "compressed"],
)
def test_bytes_that_are_not_utf8_raise_transcoding_error(data: bytes) -> None:
    with pytest.raises(TranscodingError) as e:
        transcoder().decode(data)
    assert str(e.value).startswith("Data is not UTF-8 encoded JSON (")
    assert "check the compressor and cipher settings" in str(e.value)
    assert isinstance(e.value.__cause__, UnicodeDecodeError)


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"{", b'{"a": ', b'{"a": "b', b'{"a": 1,}', b"{} []", b'{"a": 1} x'],
)
def test_text_that_is_not_json_raises_transcoding_error(data: bytes) -> None:
    with pytest.raises(TranscodingError, match=r"^Data is not valid JSON \(") as e:
        transcoder().decode(data)
    assert isinstance(e.value.__cause__, json.JSONDecodeError)


def test_every_truncation_of_an_encoding_raises_transcoding_error() -> None:
    t = transcoder()
    data = t.encode({"id": uuid4(), "at": datetime.now(UTC), "items": [1, "two"]})
    for end in range(len(data)):
        with pytest.raises(TranscodingError):
            t.decode(data[:end])


@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000],
    ids=["lists", "objects"],
)
def test_data_nested_100000_deep_raises_transcoding_error(data: bytes) -> None:
    with pytest.raises(TranscodingError) as e:
        transcoder().decode(data)
    assert str(e.value).startswith(
        "Data is nested 100000 deep, deeper than the transcoder's "
        "max_nesting_depth (500), so it is not decoded."
    )


def test_unterminated_deep_data_raises_transcoding_error() -> None:
    with pytest.raises(TranscodingError, match="nested 100000 deep"):
        transcoder().decode(b"[" * 100_000)


@pytest.mark.parametrize(
    "tail",
    [b'"' + b'\\"' * 100_000, b'"[[[\\', b'"\\\\" ' + b'"' * 100_001],
    ids=["escaped quotes without end", "trailing backslash", "many quotes"],
)
def test_deep_data_with_broken_strings_is_refused_in_linear_time(tail: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(TranscodingError, match="nested 2000 deep"):
        transcoder().decode(b"[" * 2000 + tail)
    # Scanning such text for its depth must not take quadratic time (hours).
    assert time.perf_counter() - started < 5


def test_number_with_too_many_digits_raises_transcoding_error() -> None:
    with pytest.raises(TranscodingError, match=r"^Data could not be decoded: ") as e:
        transcoder().decode(b'{"a": ' + b"9" * 5000 + b"}")
    assert "set_int_max_str_digits" in str(e.value)  # says how to allow it
    assert type(e.value.__cause__) is ValueError


def test_number_too_large_for_a_float_decodes_as_infinity() -> None:
    assert transcoder().decode(b"[1e999, -1e999]") == [float("inf"), float("-inf")]


# Decoding hostile transcoded objects.


@pytest.mark.parametrize(
    ("name", "type_name"),
    [("{}", "dict"), ("[]", "list"), ("5", "int"), ("null", "NoneType")],
)
def test_type_that_is_not_a_string_raises_unsupported_type_error(
    name: str, type_name: str
) -> None:
    data = b'{"_type_": %s, "_data_": 1}' % name.encode()
    with pytest.raises(UnsupportedTypeError) as e:
        transcoder().decode(data)
    assert str(e.value).startswith(
        f"Data serialized with name {json.loads(name)!r} is not deserializable: the "
        f"name of a transcoding is a str, not a {type_name}."
    )
    assert "please rename the keys" in str(e.value)
    assert isinstance(e.value, TypeError)


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b'{"_type_": "uuid_hex", "_data_": 5}', AttributeError),
        (b'{"_type_": "uuid_hex", "_data_": "xyz"}', ValueError),
        (b'{"_type_": "decimal_str", "_data_": "abc"}', InvalidOperation),
        (b'{"_type_": "decimal_str", "_data_": 5}', TypeError),
        (b'{"_type_": "decimal_str", "_data_": [0, [1], 0]}', TypeError),
        (b'{"_type_": "datetime_iso", "_data_": []}', TypeError),
        (b'{"_type_": "datetime_iso", "_data_": "yesterday"}', ValueError),
    ],
)
def test_data_of_the_wrong_type_or_form_raises_transcoding_error(
    data: bytes, cause: type[Exception]
) -> None:
    with pytest.raises(TranscodingError) as e:
        transcoder().decode(data)
    assert not isinstance(e.value, TypeError)
    assert type(e.value.__cause__) is cause
    name = json.loads(data)["_type_"]
    assert str(e.value).startswith(
        f"Data serialized with name {name!r} could not be decoded by the transcoding "
    )
    assert "give a changed transcoding a new name" in str(e.value)


def test_message_names_the_transcoding_the_data_type_and_the_cause() -> None:
    with pytest.raises(TranscodingError) as e:
        transcoder().decode(b'{"_type_": "decimal_str", "_data_": 5}')
    assert str(e.value) == (
        "Data serialized with name 'decimal_str' could not be decoded by the "
        "transcoding DecimalAsStr (_data_ of type int): TypeError: Decimal data must "
        "be a str such as '9.99', not <class 'int'>. The data is damaged, or the "
        "transcoding now reads a different representation: give a changed "
        "transcoding a new name and keep the old one registered for old data."
    )


@pytest.mark.parametrize(
    "error",
    [
        KeyError("cents"),
        AttributeError("cents"),
        OverflowError("too big"),
        TypeError("not an int"),
        InvalidOperation(),
        StopIteration(),
        ZeroDivisionError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_user_transcoding_whose_decode_raises_gives_transcoding_error(
    error: Exception,
) -> None:
    t = transcoder()
    t.register(Failing(error))
    with pytest.raises(TranscodingError) as e:
        t.decode(b'{"a": [{"_type_": "money", "_data_": 5}]}')
    assert e.value.__cause__ is error
    assert f"transcoding Failing (_data_ of type int): {type(error).__name__}" in str(
        e.value
    )


def test_user_transcoding_may_raise_transcoding_error_with_its_own_message() -> None:
    error = TranscodingError("Money is written in cents")
    t = transcoder()
    t.register(Failing(error))
    with pytest.raises(TranscodingError) as e:
        t.decode(b'{"_type_": "money", "_data_": 5}')
    assert e.value is error
    with pytest.raises(TranscodingError) as e:
        t.encode(Money(5))
    assert e.value is error


def test_user_transcoding_whose_decode_recurses_without_end() -> None:
    t = transcoder()
    t.register(Endless())
    limit = sys.getrecursionlimit()
    with pytest.raises(TranscodingError) as e:
        t.decode(b'{"_type_": "money", "_data_": 5}')
    assert str(e.value) == (
        "Data nested 1 deep could not be decoded within Python's recursion limit: "
        "does a transcoding's decode() recurse without end?"
    )
    assert isinstance(e.value.__cause__, RecursionError)
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize(
    "data",
    [
        b'{"_type_": {}, "_data_": 1, "more": 2}',
        b'{"_type_": "uuid_hex", "_data_": 5, "more": 2}',
        b'{"_type_": "nothing registered"}',
        b'{"_data_": []}',
    ],
)
def test_object_with_other_keys_than_type_and_data_is_plain_data(data: bytes) -> None:
    assert transcoder().decode(data) == json.loads(data)


# Encoding what cannot be decoded later.


def test_dict_key_of_unsupported_type_raises_unsupported_type_error() -> None:
    with pytest.raises(UnsupportedTypeError) as e:
        transcoder().encode({(1, 2): "a"})
    assert str(e.value) == (
        "Object is not serializable: keys must be str, int, float, bool or None, "
        "not tuple. Dict keys must be str, int, float, bool or None; values of other "
        "types need a registered custom transcoding."
    )
    assert type(e.value.__cause__) is TypeError


def test_int_with_too_many_digits_raises_transcoding_error() -> None:
    with pytest.raises(TranscodingError, match=r"^Object is not serializable: ") as e:
        transcoder().encode({"a": 10**5000})
    assert type(e.value.__cause__) is ValueError


def test_lone_surrogate_raises_transcoding_error() -> None:
    with pytest.raises(TranscodingError, match="holds a lone surrogate") as e:
        transcoder().encode({"a": "\ud800"})
    assert isinstance(e.value.__cause__, UnicodeEncodeError)


def test_user_transcoding_whose_encode_raises_gives_transcoding_error() -> None:
    error = AttributeError("cents")
    t = transcoder()
    t.register(Failing(error))
    with pytest.raises(TranscodingError) as e:
        t.encode({"price": Money(5)})
    assert str(e.value) == (
        f"Object of type {Money} could not be encoded by the transcoding Failing "
        "('money'): AttributeError: cents. Please fix its encode() method."
    )
    assert e.value.__cause__ is error


@pytest.mark.parametrize(
    "transcoding", [Endless(), Itself()], ids=["recursing", "returning itself"]
)
def test_user_transcoding_that_never_ends_gives_transcoding_error(
    transcoding: Transcoding,
) -> None:
    t = transcoder()
    t.register(transcoding)
    limit = sys.getrecursionlimit()
    with pytest.raises(TranscodingError, match="a transcoding's encode") as e:
        t.encode({"price": Money(5)})
    assert isinstance(e.value.__cause__, RecursionError)
    assert sys.getrecursionlimit() == limit


def test_list_or_dict_that_contains_itself_raises_transcoding_error() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    links: dict[str, Any] = {}
    links["next"] = links
    for value in (loop, links):
        with pytest.raises(TranscodingError) as e:
            transcoder().encode(value)
        assert str(e.value) == (
            "Object could not be encoded within Python's recursion limit: it contains "
            "itself (a list or dict inside itself), or it is nested far deeper than "
            "max_nesting_depth (500), or a transcoding's encode() recurses without "
            "end."
        )
        assert isinstance(e.value.__cause__, RecursionError)


def test_nesting_up_to_max_nesting_depth_is_encoded_and_deeper_is_refused() -> None:
    t = transcoder()
    assert JSONTranscoder.max_nesting_depth == 500
    assert t.decode(t.encode(nested_lists(500))) == nested_lists(500)
    with pytest.raises(TranscodingError) as e:
        t.encode(nested_lists(501))
    assert str(e.value) == (
        "Object is nested 501 deep, deeper than the transcoder's max_nesting_depth "
        "(500), so it could not be decoded reliably. Please flatten it, or raise "
        "max_nesting_depth of the transcoders that write and read it."
    )
    assert e.value.__cause__ is None


def test_each_transcoded_object_is_a_level_of_nesting() -> None:
    t = transcoder()
    value: Any = uuid4()
    for _ in range(499):
        value = [value]
    assert t.encode(value).count(b"[") == 499  # and one object: 500 levels
    with pytest.raises(TranscodingError, match="nested 501 deep"):
        t.encode([value])


def test_nesting_far_deeper_than_the_recursion_limit_is_refused() -> None:
    with pytest.raises(TranscodingError, match="nested far deeper") as e:
        transcoder().encode(nested_lists(100_000))
    assert isinstance(e.value.__cause__, RecursionError)


@pytest.mark.parametrize(
    "state",
    [
        {"text": "[{" * 5000},  # many brackets, all in a string
        {"text": '\\"[{' * 2000, "ok": [[]]},  # escaped quotes do not end strings
        {"rows": [[] for _ in range(1000)]},  # wide, not deep
        {"ids": [uuid4() for _ in range(600)]},
        {"text": "a long text without brackets " * 100, "at": datetime.now(UTC)},
    ],
    ids=["brackets in a string", "escapes", "wide", "many transcoded", "long text"],
)
def test_long_shallow_states_are_not_refused(state: dict[str, Any]) -> None:
    t = transcoder()
    assert t.decode(t.encode(state)) == state


def test_max_nesting_depth_can_be_lowered_and_raised() -> None:
    class Shallow(JSONTranscoder):
        max_nesting_depth = 3

    shallow = Shallow()
    assert shallow.encode([[[]]]) == b"[[[]]]"
    with pytest.raises(TranscodingError, match=r"nested 4 deep.*\(3\)"):
        shallow.encode([[[[]]]])

    deep = transcoder()
    deep.max_nesting_depth = 2000
    data = deep.encode(nested_lists(2000))
    assert data == b"[" * 2000 + b"]" * 2000
    # A default transcoder refuses to read it, and says how to read it.
    with pytest.raises(TranscodingError, match="set that value on this transcoder"):
        transcoder().decode(data)
    # (Compared by encoding: comparing lists 2000 deep would exceed the stack.)
    assert deep.encode(deep.decode(data)) == data


# Nesting up to the limit works from deep in the stack.


def test_data_nested_to_the_limit_decodes_from_a_stack_depth_of_300() -> None:
    t = transcoder()
    data = b"[" * 500 + b"]" * 500
    assert call_at_stack_depth(300, lambda: t.decode(data)) == nested_lists(500)


def test_data_nested_to_the_limit_decodes_and_encodes_near_the_recursion_limit() -> (
    None
):
    t = transcoder()
    value: Any = uuid4()
    for _ in range(499):
        value = [value]
    data = t.encode(value)
    limit = sys.getrecursionlimit()
    depth = limit - 50
    decoded = call_at_stack_depth(depth, lambda: t.decode(data))
    assert call_at_stack_depth(depth, lambda: t.encode(decoded)) == data
    assert sys.getrecursionlimit() == limit


def test_deep_decodes_in_several_threads_at_once_all_succeed() -> None:
    t = transcoder()
    data = b"[" * 500 + b"]" * 500
    limit = sys.getrecursionlimit()
    results: list[Any] = []

    def decode_deep_in_the_stack() -> None:
        for _ in range(20):
            results.append(call_at_stack_depth(limit - 50, lambda: t.decode(data)))

    threads = [threading.Thread(target=decode_deep_in_the_stack) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [nested_lists(500)] * 80
    assert sys.getrecursionlimit() == limit


class Gate(Transcoding):
    """Runs out of stack on its first call; on the second, with room made on the
    stack, it says it has arrived and waits (a while) for the other thread."""

    type = Money
    name = "money"

    def __init__(self, arrived: threading.Event, wait_for: threading.Event) -> None:
        self.arrived = arrived
        self.wait_for = wait_for
        self.calls = 0

    def encode(self, obj: Money) -> int:  # pragma: no cover (only decodes)
        return obj.cents

    def decode(self, data: int) -> Money:
        self.calls += 1
        if self.calls == 1:
            raise RecursionError
        self.arrived.set()
        self.wait_for.wait(timeout=0.5)
        return Money(data)


def test_threads_making_room_on_the_stack_at_once_restore_the_recursion_limit() -> None:
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()
    limit = sys.getrecursionlimit()
    decoded: list[Money] = []

    def decode(gate: Gate, done: threading.Event | None = None) -> None:
        t = JSONTranscoder()
        t.register(gate)
        decoded.append(t.decode(b'{"_type_": "money", "_data_": 5}'))
        if done is not None:
            done.set()

    a = threading.Thread(target=decode, args=(Gate(a_inside, b_inside), a_done))
    b = threading.Thread(target=decode, args=(Gate(b_inside, a_done),))
    a.start()
    assert a_inside.wait(timeout=5)
    # B runs out of stack while A is still decoding with a raised limit. Were the
    # two to raise and restore the limit at once, A would restore it while B still
    # needs it, and B would restore A's raised limit last.
    b.start()
    a.join()
    b.join()
    assert [money.cents for money in decoded] == [5, 5]
    assert sys.getrecursionlimit() == limit


# Properties, for data no one thought of.


def json_values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    return st.recursive(
        scalars,
        lambda children: st.lists(children) | st.dictionaries(keys, children),
        max_leaves=12,
    )


hostile_objects = json_values(st.text()).flatmap(
    lambda value: st.fixed_dictionaries(
        {
            "_type_": st.sampled_from(["uuid_hex", "decimal_str", "datetime_iso"])
            | st.just(value),
            "_data_": st.just(value),
        }
    )
)


def decoding_error(data: bytes) -> TranscodingError | None:
    """The TranscodingError that decoding raises, if any; other errors propagate."""
    try:
        transcoder().decode(data)
    except TranscodingError as error:
        return error
    return None


def assert_decodes_or_raises_transcoding_error(data: bytes) -> None:
    error = decoding_error(data)
    # A TypeError only when no transcoding is registered for the name.
    assert isinstance(error, TypeError) == isinstance(error, UnsupportedTypeError)


@fuzz
@given(st.binary())
def test_any_bytes_decode_or_raise_transcoding_error(data: bytes) -> None:
    assert_decodes_or_raises_transcoding_error(data)


@fuzz
@given(st.lists(hostile_objects | json_values(st.text()), max_size=5))
def test_any_json_with_hostile_transcoded_objects_decodes_or_raises(
    values: list[Any],
) -> None:
    assert_decodes_or_raises_transcoding_error(json.dumps(values).encode())


@fuzz
@given(st.data())
def test_any_damage_to_an_encoding_decodes_or_raises(data: st.DataObject) -> None:
    state = {"id": uuid4(), "amount": Decimal("9.99"), "at": datetime.now(UTC)}
    encoded = bytearray(transcoder().encode(state))
    start = data.draw(st.integers(0, len(encoded)))
    end = data.draw(st.integers(start, min(start + 8, len(encoded))))
    encoded[start:end] = data.draw(st.binary(max_size=8))
    assert_decodes_or_raises_transcoding_error(bytes(encoded))


timezones = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
plain_keys = st.text().filter(lambda key: key not in ("_type_", "_data_"))
transcoded = (
    st.uuids() | st.decimals(allow_nan=False) | st.datetimes(timezones=timezones)
)
states = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | transcoded,
    lambda children: st.lists(children) | st.dictionaries(plain_keys, children),
    max_leaves=12,
)


@fuzz
@given(st.dictionaries(plain_keys, states, max_size=5))  # each value may nest
def test_any_state_of_supported_values_round_trips(state: dict[str, Any]) -> None:
    t = transcoder()
    assert t.decode(t.encode(state)) == state


@fuzz
@given(
    st.integers(1, 600),
    st.sampled_from([[], {}, UUID(int=1)]),
    st.lists(st.sampled_from(["list", "dict"]), min_size=1),
)
def test_encode_refuses_exactly_the_states_nested_deeper_than_the_limit(
    depth: int, innermost: Any, kinds: list[str]
) -> None:
    # The innermost value is one level: an empty list or dict, or a UUID's object.
    value = innermost
    for i in range(depth - 1):
        value = {"k": value} if kinds[i % len(kinds)] == "dict" else [value]
    t = transcoder()
    if depth > t.max_nesting_depth:
        with pytest.raises(TranscodingError, match=f"nested {depth} deep"):
            t.encode(value)
    else:
        assert t.decode(t.encode(value)) == value
