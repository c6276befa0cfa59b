"""``python -m eventsourcing.system run|status|repartition``: the system's
commands (also ``eventsourcing run``, ``eventsourcing status``)."""

import sys

from eventsourcing.system._commands import main

sys.exit(main())
