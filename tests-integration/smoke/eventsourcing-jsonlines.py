"""The example third-party backend, selected by its entry-point name alone."""

import tempfile
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent

with tempfile.TemporaryDirectory() as tmp:
    env = {"INFRASTRUCTURE_FACTORY": "jsonlines", "JSONLINES_PATH": tmp}
    factory = InfrastructureFactory.construct("smoke", env)
    recorder = factory.application_recorder()
    stored = StoredEvent(uuid4(), 1, "t", b"{}")
    recorder.insert_events([stored])
    assert recorder.select_events(stored.originator_id) == [stored]
    assert type(factory).__module__.startswith("eventsourcing_jsonlines")
print("ok: jsonlines stored one event")
