"""The PostgreSQL backend against the harness's server, with nothing else installed."""

import os
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent

env = {k: v for k, v in os.environ.items() if k.startswith("POSTGRES_")}
env["INFRASTRUCTURE_FACTORY"] = "postgres"
factory = InfrastructureFactory.construct("smoke", env)
recorder = factory.application_recorder()
stored = StoredEvent(
    originator_id=uuid4(), originator_version=1, topic="t", state=b"{}"
)
recorder.insert_events([stored])
assert recorder.select_events(stored.originator_id) == [stored]
print("ok: postgres stored one event")
