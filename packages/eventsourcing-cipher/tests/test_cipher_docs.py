"""The encryption example of the documentation (section 1.6.5), as written."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from eventsourcing.domain import TZINFO, DomainEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)


def test_encryption_example() -> None:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    id1 = uuid4()
    mapper = Mapper(transcoder=transcoder)
    domain_event1 = DomainEvent(
        originator_id=id1,
        originator_version=1,
        timestamp=datetime.now(tz=TZINFO),
    )
    stored_event1 = mapper.from_domain_event(domain_event1)

    assert domain_event1.timestamp.isoformat() in str(stored_event1.state)

    from eventsourcing.cipher import AESCipher

    key = AESCipher.create_key(num_bytes=32)  # 16, 24, or 32
    cipher = AESCipher(cipher_key=key)

    mapper = Mapper(
        transcoder=transcoder,
        cipher=cipher,
    )

    stored_event1 = mapper.from_domain_event(domain_event1)
    assert isinstance(stored_event1, StoredEvent)
    assert mapper.to_domain_event(stored_event1) == domain_event1

    assert domain_event1.timestamp.isoformat() not in str(stored_event1.state)
