"""An event store on the in-memory recorder, installed alone."""

from uuid import uuid4

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

factory = InfrastructureFactory.construct("smoke", {})
recorder = factory.application_recorder()
transcoder = JSONTranscoder()
transcoder.register(UUIDAsHex())
transcoder.register(DatetimeAsISO())
store = EventStore(mapper=Mapper(transcoder=transcoder), recorder=recorder)
originator_id = uuid4()
events = [
    DomainEvent(
        originator_id=originator_id,
        originator_version=v,
        timestamp=DomainEvent.create_timestamp(),
    )
    for v in (1, 2, 3)
]
store.put(events)
assert list(store.get(originator_id)) == events
assert recorder.max_notification_id() == 3
print("ok: popo stored", len(events), "events")
