"""The contract test cases import with only their dependencies."""

import eventsourcing.testing as testing

assert testing.__all__, "eventsourcing.testing exports its contract test cases"
for name in testing.__all__:
    getattr(testing, name)
print("ok:", len(testing.__all__), "names in eventsourcing.testing")
