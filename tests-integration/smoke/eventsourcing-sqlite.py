"""The SQLite backend chosen by name, with nothing else installed."""

import os
import tempfile
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent

with tempfile.TemporaryDirectory() as tmp:
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": os.path.join(tmp, "db")}
    factory = InfrastructureFactory.construct("smoke", env)
    recorder = factory.application_recorder()
    stored = StoredEvent(
        originator_id=uuid4(), originator_version=1, topic="t", state=b"{}"
    )
    recorder.insert_events([stored])
    assert recorder.select_events(stored.originator_id) == [stored]
    assert recorder.max_notification_id() == 1
print("ok: sqlite stored one event")
