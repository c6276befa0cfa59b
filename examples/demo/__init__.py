"""The demo: an orders application and a sales process application that follows
it, stored in SQLite under ``.demo-data/`` (run ``python -m examples.demo``)."""
