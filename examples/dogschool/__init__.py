"""A typed example application: a dog school and a follower that counts tricks.

``mypy --strict`` finds no error in it (a test checks), so it shows how the types
of the library reach user code: ``Application[Dog]`` makes ``repository.get()``
return a ``Dog``, and the events of ``@event`` are declared in the aggregate's
body where type checkers see them.
"""
