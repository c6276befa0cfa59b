"""Map a domain event with only the persistence core installed."""

from uuid import uuid4

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

transcoder = JSONTranscoder()
transcoder.register(UUIDAsHex())
transcoder.register(DatetimeAsISO())
mapper = Mapper(transcoder=transcoder, compressor=ZlibCompressor())
event = DomainEvent(
    originator_id=uuid4(),
    originator_version=1,
    timestamp=DomainEvent.create_timestamp(),
)
stored = mapper.from_domain_event(event)
assert mapper.to_domain_event(stored) == event
print("ok: mapped", stored.topic)
