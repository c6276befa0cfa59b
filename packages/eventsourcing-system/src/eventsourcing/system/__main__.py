"""``python -m eventsourcing.system run|status|repartition|run-projection|
projection-status``: the system's commands (also ``eventsourcing run``, and so
on)."""

import sys

from eventsourcing.system._commands import main

sys.exit(main())
