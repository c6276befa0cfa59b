"""``python -m eventsourcing``: the ``eventsourcing`` command."""

import sys

from eventsourcing.cli import main

sys.exit(main())
