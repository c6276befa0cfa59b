"""Format figures: what checksums, record-bound ciphertexts and durable SQLite
commits cost, against the formats and settings they replace, measured side by side
in one run.

put x1: events written per second through ``EventStore.put()``, one per call; get
1000: events read per second by ``EventStore.get()`` of a 1000-event sequence.
"plain (9.1)" is unencrypted state without a checksum, as 9.1 wrote it and as the
project writes into 9.1 stores; "aes (9.1)" is AES-GCM without binding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench_common import Config, best_rate, make_events, unique_name

from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import EventStore, InfrastructureFactory, Mapper

KEY = AESCipher.create_key(32)
# Figure pairs: (new format, the format it is compared with).
PAIRS = (
    ("put x1 checksum", "put x1 plain (9.1)"),
    ("get 1000 checksum", "get 1000 plain (9.1)"),
    ("put x1 aes bound", "put x1 aes (9.1)"),
    ("get 1000 aes bound", "get 1000 aes (9.1)"),
)


def _store(env: dict[str, str], cipher: bool, legacy: bool) -> tuple[Any, EventStore]:
    settings = {**env, **({"CIPHER_KEY": KEY} if cipher else {})}
    factory = InfrastructureFactory.construct(unique_name("fmt"), settings)
    mapper: Mapper = factory.mapper(transcoder=_transcoder())
    mapper.legacy_format = legacy
    return factory, EventStore(mapper, factory.application_recorder())


def _transcoder() -> Any:
    from bench_persistence import make_mapper

    return make_mapper().transcoder


def library(env: dict[str, str], cfg: Config) -> dict[str, float]:
    """The pairs of PAIRS on the backend chosen by ``env``."""
    results: dict[str, float] = {}
    n = cfg.events
    kinds = ((False, "checksum", "plain (9.1)"), (True, "aes bound", "aes (9.1)"))
    for cipher, new, old in kinds:
        for label, legacy in ((new, False), (old, True)):
            factory, store = _store(env, cipher, legacy)

            def put_work(store: EventStore = store) -> Callable[[], None]:
                events = make_events(n)

                def run() -> None:
                    for event in events:
                        store.put([event])

                return run

            results[f"put x1 {label}"] = best_rate(cfg.repeats, n, put_work)
            events = make_events(1000)
            store.put(events)
            originator_id = events[0].originator_id
            reps = max(1, cfg.reads // 1000)

            def get(
                store: EventStore = store, oid: Any = originator_id, reps: int = reps
            ) -> None:
                for _ in range(reps):
                    list(store.get(oid))

            def get_work(get: Callable[[], None] = get) -> Callable[[], None]:
                return get

            results[f"get 1000 {label}"] = best_rate(cfg.repeats, 1000 * reps, get_work)
            factory.close()
    return results


def durability(env: dict[str, str], cfg: Config) -> dict[str, float]:
    """SQLite file writes with synchronous FULL (the default) and NORMAL."""
    results: dict[str, float] = {}
    n = max(cfg.events // 3, 1)
    for mode in ("FULL", "NORMAL"):
        factory, store = _store({**env, "SQLITE_SYNCHRONOUS": mode}, False, False)

        def put_work(store: EventStore = store) -> Callable[[], None]:
            events = make_events(n)

            def run() -> None:
                for event in events:
                    store.put([event])

            return run

        results[f"put x1 {mode}"] = best_rate(cfg.repeats, n, put_work)
        factory.close()
    return results
