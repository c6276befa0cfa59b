"""The ``Worlds`` application of the documentation's basic example (section 1.5.3),
with the ``World`` aggregate in explicit style and in declarative style."""
