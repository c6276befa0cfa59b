"""With "CIPHER_TOPIC" and "COMPRESSOR_TOPIC" set, nothing readable of an event's
state reaches the database: checked on the bytes of a SQLite file (SQLite is only a
test dependency here; the cipher itself knows nothing of it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.cipher import AESCipher, DecryptionError
from eventsourcing.domain import TZINFO, DomainEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    InfrastructureFactory,
    JSONTranscoder,
    UUIDAsHex,
)

SECRET = "correct horse battery staple"


class SecretNoted(DomainEvent):
    secret: str


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return transcoder


def _store_secret(directory: Path, **env: str) -> tuple[SecretNoted, bytes]:
    """Store one event through the sqlite factory; return it and the files' bytes."""
    env = {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(directory / "vault.db"),
        **env,
    }
    factory = InfrastructureFactory.construct("Vault", env)
    event_store = factory.event_store(
        mapper=factory.mapper(transcoder=_transcoder()),
        recorder=factory.application_recorder(),
    )
    event = SecretNoted(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime.now(tz=TZINFO),
        secret=SECRET,
    )
    event_store.put([event])
    assert list(event_store.get(event.originator_id)) == [event]
    files = b"".join(path.read_bytes() for path in sorted(directory.iterdir()))
    return event, files


def test_without_a_cipher_the_state_is_readable_in_the_file(tmp_path: Path) -> None:
    event, files = _store_secret(tmp_path)

    assert SECRET.encode() in files
    assert event.timestamp.isoformat().encode() in files


@pytest.mark.parametrize("topic", ["aes", "eventsourcing.cipher:AESCipher"])
@pytest.mark.parametrize(
    "compressor", ["zlib", "eventsourcing.compressor:ZlibCompressor"]
)
def test_with_cipher_and_compressor_nothing_readable_is_stored(
    topic: str, compressor: str, tmp_path: Path
) -> None:
    event, files = _store_secret(
        tmp_path,
        CIPHER_TOPIC=topic,
        CIPHER_KEY=AESCipher.create_key(num_bytes=32),
        COMPRESSOR_TOPIC=compressor,
    )

    for fragment in (
        SECRET,
        "horse",
        event.timestamp.isoformat(),
        "secret",
        "timestamp",
    ):
        assert fragment.encode() not in files
    # Only the state is encrypted: the aggregate id is a column, kept in clear.
    assert str(event.originator_id).encode() in files


def test_reading_with_another_key_fails_clearly(tmp_path: Path) -> None:
    env = {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(tmp_path / "vault.db"),
        "CIPHER_TOPIC": "aes",
        "COMPRESSOR_TOPIC": "zlib",
    }
    event, _ = _store_secret(tmp_path, **env, CIPHER_KEY=AESCipher.create_key(16))
    factory = InfrastructureFactory.construct(
        "Vault", {**env, "CIPHER_KEY": AESCipher.create_key(16)}
    )
    event_store = factory.event_store(
        mapper=factory.mapper(transcoder=_transcoder()),
        recorder=factory.application_recorder(),
    )

    with pytest.raises(DecryptionError, match="neither 'CIPHER_KEY' nor one of"):
        list(event_store.get(event.originator_id))
