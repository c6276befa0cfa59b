"""Stored formats: checksummed state, the formats of eventsourcing 9.1 kept where a
store has them, failures to read a record that name it; and the one write contract
of recorders."""

from __future__ import annotations

import json
import logging
import random
import sys
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import TZINFO, DomainEvent
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ChecksumError,
    Cipher,
    DatetimeAsISO,
    DecryptionError,
    EventStore,
    JSONTranscoder,
    Mapper,
    Notification,
    ProcessRecorder,
    Recording,
    StoredEvent,
    Tracking,
    UnreadableRecordError,
    UUIDAsHex,
    _formats,
)
from eventsourcing.persistence._formats import CHECKSUM_MAGIC, add_checksum
from eventsourcing.utils import TopicError


class Noted(DomainEvent):
    text: str


def noted(text: str = "hello", version: int = 1) -> Noted:
    return Noted(
        originator_id=uuid4(),
        originator_version=version,
        timestamp=datetime.now(tz=TZINFO),
        text=text,
    )


def new_mapper(**kwargs: Any) -> Mapper:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    mapper = Mapper(transcoder=transcoder, **kwargs)
    mapper.application_name = "Notes"
    return mapper


class MemoryRecorder(ProcessRecorder):
    """A minimal process recorder that keeps its rows in a list."""

    def __init__(self, rows: Sequence[StoredEvent] = (), legacy: bool = False) -> None:
        self.rows = list(rows)
        self.tracking: list[Tracking] = []
        self.legacy_layout = legacy

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        first = len(self.rows) + 1
        self.rows.extend(stored_events)
        if tracking is not None:
            self.tracking.append(tracking)
        return range(first, len(self.rows) + 1)

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        return [r for r in self.rows if r.originator_id == originator_id]

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        return [
            Notification(r.originator_id, r.originator_version, r.topic, r.state, i)
            for i, r in enumerate(self.rows, 1)
            if i >= start and (not topics or r.topic in topics)
        ][:limit]

    def max_notification_id(self) -> int:
        return len(self.rows)

    def max_tracking_id(self, application_name: str) -> int:
        return max((t.notification_id for t in self.tracking), default=0)


class AggregateOnly(AggregateRecorder):
    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        return None

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        return []


# Checksums.


def test_new_state_carries_a_checksum_that_reading_verifies() -> None:
    event = noted()
    stored = new_mapper().from_domain_event(event)
    assert stored.state.startswith(CHECKSUM_MAGIC)
    assert json.loads(stored.state[4:-4])["text"] == "hello"
    assert new_mapper().to_domain_event(stored) == event


def test_the_checksum_envelope_is_the_documented_format() -> None:
    # Stored states must read back whatever the code that writes them becomes:
    # MAGIC + data + the little-endian CRC-32 of both, started from the CRC-32 of
    # the topic XOR the version XOR the originator ID (see the _formats module).
    originator_id = UUID("12345678-1234-5678-1234-567812345678")
    data = b'{"text": "hello"}'
    sealed = add_checksum(data, originator_id, 7, "notes:Noted")
    start = zlib.crc32(b"notes:Noted") ^ 7 ^ originator_id.int
    crc = zlib.crc32(b"\x00ES\x01" + data, start & 0xFFFFFFFF)
    assert sealed == b"\x00ES\x01" + data + crc.to_bytes(4, "little")
    assert sealed.hex() == (
        "004553017b2274657874223a202268656c6c6f227dc0d2c8a0"  # written once, kept
    )
    # The mapper's inline seal writes the same bytes.
    event = Noted(
        originator_id=originator_id,
        originator_version=7,
        timestamp=datetime(2026, 12, 1, tzinfo=TZINFO),
        text="hello",
    )
    stored = new_mapper().from_domain_event(event)
    assert stored.state == add_checksum(
        stored.state[4:-4], originator_id, 7, stored.topic
    )


def test_zlib_ngs_crc32_is_used_when_installed_and_zlibs_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zlib_ng import zlib_ng

    assert _formats.crc32_implementation() is zlib_ng.crc32
    assert _formats._crc32 is zlib_ng.crc32  # the test environment has the extra
    monkeypatch.setitem(sys.modules, "zlib_ng", None)  # as if not installed
    assert _formats.crc32_implementation() is zlib.crc32


def test_zlib_ng_and_zlib_compute_the_same_checksums() -> None:
    # So a store written with one reads with the other: the extra changes speed
    # only. Starts as the mapper makes them (128-bit, of which 32 bits count).
    from zlib_ng import zlib_ng

    rng = random.Random(91)
    for size in [*range(70), 100, 255, 256, 1000, 4096, 70_000]:
        data = rng.randbytes(size)
        start = rng.getrandbits(128)
        assert zlib_ng.crc32(data, start) == zlib.crc32(data, start)
    stored = new_mapper().from_domain_event(noted())
    original = _formats._crc32
    try:
        _formats._crc32 = zlib.crc32
        assert (
            add_checksum(
                stored.state[4:-4],
                stored.originator_id,
                stored.originator_version,
                stored.topic,
            )
            == stored.state
        )
    finally:
        _formats._crc32 = original


def test_one_changed_byte_in_a_string_is_detected() -> None:
    stored = new_mapper().from_domain_event(noted("hello"))
    tampered = stored.state.replace(b"hello", b"jello")
    with pytest.raises(ChecksumError, match="does not match its checksum") as raised:
        new_mapper().to_domain_event(replace(stored, state=tampered))
    error = raised.value
    assert (error.originator_id, error.originator_version) == (
        stored.originator_id,
        1,
    )
    assert error.topic == stored.topic
    assert error.application_name == "Notes"
    assert "'Notes'" in str(error)


@pytest.mark.parametrize(
    "change",
    [
        {"topic": f"{__name__}:Other"},
        {"originator_id": uuid4()},
        {"originator_version": 2},
        {"state": CHECKSUM_MAGIC + b"\x00"},
    ],
)
def test_a_state_moved_relabelled_or_truncated_is_detected(
    change: dict[str, Any],
) -> None:
    stored = new_mapper().from_domain_event(noted())
    with pytest.raises(ChecksumError):
        new_mapper().to_domain_event(replace(stored, **change))


def test_a_state_too_short_to_carry_its_checksum_is_detected() -> None:
    stored = new_mapper().from_domain_event(noted())
    with pytest.raises(ChecksumError):
        new_mapper().to_domain_event(replace(stored, state=CHECKSUM_MAGIC + b"ab"))


def test_resealing_checks_the_state_opens_to_the_same_bytes() -> None:
    class Lossy(Cipher):
        """Loses a byte when it binds: resealing must notice, not store it."""

        def __init__(self, cipher_key: str) -> None:
            pass

        def encrypt(self, plaintext: bytes) -> bytes:
            return plaintext

        def decrypt(self, ciphertext: bytes) -> bytes:
            return ciphertext

        def encrypt_record(self, plaintext: bytes, associated_data: bytes) -> bytes:
            return b"B" + plaintext[:-1]

        def decrypt_record(self, ciphertext: bytes, associated_data: bytes) -> bytes:
            return ciphertext[1:] if ciphertext[:1] == b"B" else ciphertext

    mapper = new_mapper(cipher=Lossy("k"))
    mapper.legacy_format = True
    stored = mapper.from_domain_event(noted())
    with pytest.raises(UnreadableRecordError, match="does not open to the same bytes"):
        mapper.reseal(stored)


def test_state_without_a_checksum_still_reads() -> None:
    event = noted()
    mapper = new_mapper()
    mapper.legacy_format = True
    stored = mapper.from_domain_event(event)
    assert json.loads(stored.state)["text"] == "hello"
    assert new_mapper().to_domain_event(stored) == event


# Which formats a mapper writes.


def test_a_new_store_gets_the_current_formats() -> None:
    mapper = new_mapper()
    EventStore(mapper, MemoryRecorder())
    assert mapper.legacy_format is False


def test_a_store_whose_newest_record_is_in_9_1_format_keeps_that_format() -> None:
    old = new_mapper()
    old.legacy_format = True
    legacy_row = old.from_domain_event(noted())
    mapper = new_mapper()
    store = EventStore(mapper, MemoryRecorder([legacy_row]))
    assert mapper.legacy_format is True
    store.put([noted("more")])
    assert not store.recorder.rows[-1].state.startswith(CHECKSUM_MAGIC)  # type: ignore[attr-defined]  # MemoryRecorder
    # A second event store on the same mapper (as for snapshots) does not decide.
    EventStore(mapper, AggregateOnly())
    assert mapper.legacy_format is True


def test_a_store_whose_newest_record_is_current_gets_current_formats() -> None:
    current_row = new_mapper().from_domain_event(noted())
    mapper = new_mapper()
    EventStore(mapper, MemoryRecorder([current_row]))
    assert mapper.legacy_format is False


def test_a_store_laid_out_by_9_1_gets_9_1_formats_even_when_empty() -> None:
    mapper = new_mapper()
    EventStore(mapper, MemoryRecorder(legacy=True))
    assert mapper.legacy_format is True


def test_an_aggregate_recorder_alone_gets_current_formats() -> None:
    mapper = new_mapper()
    EventStore(mapper, AggregateOnly())
    assert mapper.legacy_format is False


def test_a_store_whose_newest_notification_cannot_be_selected_is_new() -> None:
    class Reporting(MemoryRecorder):
        def max_notification_id(self) -> int:
            return 5  # rows were deleted, say

    mapper = new_mapper()
    EventStore(mapper, Reporting())
    assert mapper.legacy_format is False


# Ciphers and compressors.


class ReversingCipher(Cipher):
    def __init__(self, cipher_key: str) -> None:
        self.cipher_key = cipher_key

    def encrypt(self, plaintext: bytes) -> bytes:
        return plaintext[::-1]

    def decrypt(self, ciphertext: bytes) -> bytes:
        return ciphertext[::-1]


def test_a_cipher_that_does_not_bind_records_encrypts_without_binding() -> None:
    event = noted()
    mapper = new_mapper(cipher=ReversingCipher("k"))
    stored = mapper.from_domain_event(event)
    assert stored.state == new_mapper_legacy().from_domain_event(event).state[::-1]
    assert mapper.writes_current_format_for(stored.state)
    assert mapper.to_domain_event(stored) == event


def new_mapper_legacy() -> Mapper:
    mapper = new_mapper()
    mapper.legacy_format = True
    return mapper


def test_unencrypted_record_in_an_encrypted_store_is_refused() -> None:
    stored = new_mapper().from_domain_event(noted())
    with pytest.raises(DecryptionError, match="not encrypted"):
        new_mapper(cipher=ReversingCipher("k")).to_domain_event(stored)


def test_state_that_does_not_decompress_names_the_setting() -> None:
    stored = new_mapper().from_domain_event(noted())
    with pytest.raises(UnreadableRecordError, match="COMPRESSOR_TOPIC must name") as e:
        new_mapper(compressor=ZlibCompressor()).to_domain_event(stored)
    assert isinstance(e.value.__cause__, UnreadableRecordError)
    assert isinstance(e.value.__cause__.__cause__, zlib.error)


def test_compressed_state_read_without_the_compressor_names_the_settings() -> None:
    mapper = new_mapper(compressor=ZlibCompressor())
    mapper.legacy_format = True
    stored = mapper.from_domain_event(noted("x" * 100))
    with pytest.raises(UnreadableRecordError, match="set CIPHER_TOPIC and CIPHER_KEY"):
        new_mapper().to_domain_event(stored)
    decrypting = new_mapper(cipher=ReversingCipher("k"))
    decrypting.legacy_format = True
    stored = decrypting.from_domain_event(noted("x" * 100))
    compressed = replace(stored, state=zlib.compress(stored.state[::-1])[::-1])
    with pytest.raises(UnreadableRecordError, match="decrypted but is not text"):
        decrypting.to_domain_event(compressed)


def test_state_that_is_not_an_object_is_refused() -> None:
    mapper = new_mapper_legacy()
    stored = replace(mapper.from_domain_event(noted()), state=b"[1, 2]")
    with pytest.raises(UnreadableRecordError, match="is a list, not an object"):
        mapper.to_domain_event(stored)


def test_a_topic_that_is_refused_names_the_record() -> None:
    mapper = new_mapper_legacy()
    stored = mapper.from_domain_event(noted())
    refused = replace(stored, topic="tempfile:_TemporaryFileCloser")
    with pytest.raises(UnreadableRecordError, match="_TemporaryFileCloser") as raised:
        mapper.to_domain_event(refused)
    assert isinstance(raised.value.__cause__, TopicError)


def test_storing_an_event_class_of_the_main_script_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    main_event = type(
        "MainNoted", (Noted,), {"__module__": "__main__", "__qualname__": "MainNoted"}
    )
    with caplog.at_level(logging.WARNING, logger="eventsourcing"):
        for _ in range(2):
            new_mapper().from_domain_event(
                main_event(
                    originator_id=uuid4(),
                    originator_version=1,
                    timestamp=datetime.now(tz=TZINFO),
                    text="x",
                )
            )
    (record,) = caplog.records
    assert "'__main__:MainNoted'" in record.message
    assert "cannot be loaded by any other program" in record.message


# The write contract.


def test_put_returns_the_recordings_with_notification_ids() -> None:
    recorder = MemoryRecorder()
    store = EventStore(new_mapper(), recorder)
    events = [noted("a"), noted("b")]
    recordings = store.put(events)
    assert [r.notification.id for r in recordings] == [1, 2]
    assert all(isinstance(r, Recording) for r in recordings)
    assert [r.domain_event for r in recordings] == events
    assert recordings[0].notification.state == recorder.rows[0].state
    assert store.put([]) == []
    # Built without __init__, they equal recordings made the documented way.
    first = recordings[0]
    assert first == Recording(first.domain_event, first.notification)
    row = recorder.rows[0]
    assert first.notification == Notification(
        row.originator_id, row.originator_version, row.topic, row.state, 1
    )


def test_the_recordings_are_a_sequence_made_when_first_looked_at() -> None:
    store = EventStore(new_mapper(), MemoryRecorder())
    events = [noted("a"), noted("b"), noted("c")]
    recordings = store.put(events)
    events.clear()  # the caller's list may be reused: the recordings keep theirs
    assert len(recordings) == 3
    assert recordings._made is None  # type: ignore[attr-defined]  # nothing made yet
    assert [r.notification.id for r in recordings[1:]] == [2, 3]
    assert recordings[-1].domain_event.__dict__["text"] == "c"
    assert recordings == list(recordings)
    assert recordings == [*store.put([]), *recordings]
    assert recordings != store.put([noted("d")])
    other: object = "abc"
    assert recordings != other
    assert repr(recordings) == repr(list(recordings))
    assert recordings.index(recordings[1]) == 1  # Sequence's mixins work
    with pytest.raises(TypeError):
        hash(recordings)
    # The same objects each time they are looked at.
    assert recordings[0] is next(iter(recordings))


def test_put_refuses_a_recorder_that_returns_the_wrong_number_of_ids() -> None:
    class Miscounting(MemoryRecorder):
        def _insert_events(
            self, stored_events: list[StoredEvent], tracking: Tracking | None
        ) -> Sequence[int] | None:
            super()._insert_events(stored_events, tracking)
            return [1]

    with pytest.raises(
        ValueError, match="Miscounting returned 1 notification IDs for 2"
    ):
        EventStore(new_mapper(), Miscounting()).put([noted("a"), noted("b")])


def test_insert_events_checks_its_arguments() -> None:
    recorder = MemoryRecorder()
    with pytest.raises(TypeError, match="takes StoredEvent objects"):
        recorder.insert_events([noted()])  # type: ignore[list-item]  # the point
    with pytest.raises(TypeError, match="must be a Tracking object"):
        recorder.insert_events([], tracking=("Leader", 1))  # type: ignore[arg-type]  # the point
    with pytest.raises(TypeError, match="cannot record a tracking record"):
        AggregateOnly().insert_events([], tracking=Tracking("Leader", 1))
    assert recorder.rows == []
    assert AggregateOnly().insert_events([]) is None
    stored = new_mapper().from_domain_event(noted())
    assert list(recorder.insert_events((stored,)) or []) == [1]
    assert recorder.insert_events([], tracking=Tracking("Leader", 4)) == range(2, 2)
    assert recorder.max_tracking_id("Leader") == 4


def test_a_recorder_written_for_9_1_is_kept_behind_the_contract() -> None:
    calls: list[dict[str, Any]] = []

    class Old(ApplicationRecorder):  # 9.1 style, on purpose
        def insert_events(  # type: ignore[override]  # 9.1's signature, on purpose
            self, stored_events: list[StoredEvent], **kwargs: Any
        ) -> None:
            calls.append({"events": stored_events, **kwargs})

        def select_events(self, *args: Any, **kwargs: Any) -> list[StoredEvent]:
            return []

        def select_notifications(self, start: int, limit: int) -> list[Notification]:  # type: ignore[override]  # 9.1's signature
            return []

        def max_notification_id(self) -> int:
            return 0

    class OldProcess(Old, ProcessRecorder):
        def max_tracking_id(self, application_name: str) -> int:
            return 0

    stored = new_mapper().from_domain_event(noted())
    Old().insert_events([stored])  # type: ignore[abstract]  # adapted at run time
    Old().insert_events([])  # type: ignore[abstract]  # short-circuited: not called
    tracking = Tracking("Leader", 1)
    OldProcess().insert_events([], tracking=tracking)  # type: ignore[abstract]  # as above
    assert calls == [{"events": [stored]}, {"events": [], "tracking": tracking}]
    with pytest.raises(TypeError, match="takes StoredEvent objects"):
        Old().insert_events(["not stored"])  # type: ignore[abstract, list-item]  # the point


def test_resealing_a_damaged_state_refuses_it_and_names_the_record() -> None:
    mapper = new_mapper()
    mapper.legacy_format = False
    stored = mapper.from_domain_event(noted())
    damaged = bytearray(stored.state)
    damaged[6] ^= 0x01
    with pytest.raises(ChecksumError, match="does not match its checksum") as raised:
        mapper.reseal(replace(stored, state=bytes(damaged)))
    assert str(stored.originator_id) in str(raised.value)
