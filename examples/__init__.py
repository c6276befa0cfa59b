"""Example applications built with the library, each an importable package with its
domain model, application and tests."""
