"""Format figures: what checksums, record-bound ciphertexts and durable SQLite
commits cost, against the formats and settings they replace, measured side by side
in one run.

put x1: events written per second through ``EventStore.put()``, one per call; get
1000: events read per second by ``EventStore.get()`` of a 1000-event sequence.
"plain (9.1)" is unencrypted state without a checksum, as 9.1 wrote it and as the
project writes into 9.1 stores; "aes (9.1)" is AES-GCM without binding.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from bench_common import (
    Config,
    make_events,
    median_cost,
    paired_best_rates,
    paired_runs,
    unique_name,
)

from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import (
    EventStore,
    InfrastructureFactory,
    Mapper,
    _formats,
)

KEY = AESCipher.create_key(32)
SPLIT = 20  # runs of a twentieth of the size, twenty times as many
GET_ROUNDS = 5  # rounds of gets (without AES) for each round of puts
# Figure pairs: (new format, the format it is compared with).
PAIRS = (
    ("put x1 checksum", "put x1 plain (9.1)"),
    ("get 1000 checksum", "get 1000 plain (9.1)"),
    ("put x1 aes bound", "put x1 aes (9.1)"),
    ("get 1000 aes bound", "get 1000 aes (9.1)"),
)


def crc32_name() -> str:
    """Which CRC-32 the checksums are computed with (see ``crc32_implementation``)."""
    if _formats._crc32 is zlib.crc32:
        return "zlib's CRC-32 (eventsourcing-persistence[zlib-ng] is faster)"
    return "zlib-ng's CRC-32 (the zlib-ng extra)"


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
    """The pairs of PAIRS on the backend chosen by ``env``: the rates (the best
    runs) and, under ``"cost: " + figure``, what the new format costs (see
    ``median_cost``), each pair measured taking turns (see ``paired_runs``)."""
    results: dict[str, float] = {}
    # Twenty times as many runs, each a twentieth as long: many short runs taking
    # turns give the steadier ratio on a shared machine.
    rounds = cfg.repeats * SPLIT
    n = max(cfg.events // SPLIT, 1)
    kinds = ((False, "checksum", "plain (9.1)"), (True, "aes bound", "aes (9.1)"))
    for cipher, new, old in kinds:
        made = [_store(env, cipher, legacy) for legacy in (False, True)]
        stores = [store for _, store in made]
        puts = paired_runs(rounds, *(_put_work(s, n) for s in stores))
        _record(results, "put x1", new, old, n, puts)
        # A get of 1000 events is short: five times as many rounds as the puts
        # (AES gets take 30 times as long, so as many).
        get_rounds = rounds if cipher else rounds * GET_ROUNDS
        gets = paired_runs(get_rounds, *(_get_work(s) for s in stores))
        _record(results, "get 1000", new, old, 1000, gets)
        for factory, _ in made:
            factory.close()
    return results


def _record(
    results: dict[str, float],
    figure: str,
    new: str,
    old: str,
    count: int,
    runs: list[list[float]],
) -> None:
    results[f"{figure} {new}"] = count / min(runs[0])
    results[f"{figure} {old}"] = count / min(runs[1])
    results[f"cost: {figure} {new}"] = median_cost(runs[0], runs[1])


def _put_work(store: EventStore, n: int) -> Callable[[], Callable[[], None]]:
    """Fresh events of a new aggregate to put one at a time, for each run."""

    def setup() -> Callable[[], None]:
        events = make_events(n)

        def run() -> None:
            for event in events:
                store.put([event])

        return run

    return setup


def _get_work(store: EventStore) -> Callable[[], Callable[[], None]]:
    """A get of a 1000-event aggregate put once, for each run."""
    events = make_events(1000)
    store.put(events)
    originator_id = events[0].originator_id

    def run() -> None:
        list(store.get(originator_id))

    return lambda: run


def durability(env: dict[str, str], cfg: Config) -> dict[str, float]:
    """SQLite file writes with synchronous FULL (the default) and NORMAL, measured
    taking turns."""
    n = max(cfg.events // 3 // SPLIT, 1)
    modes = ("FULL", "NORMAL")
    made = [_store({**env, "SQLITE_SYNCHRONOUS": mode}, False, False) for mode in modes]
    rates = paired_best_rates(
        cfg.repeats * SPLIT, n, *(_put_work(s, n) for _, s in made)
    )
    for factory, _ in made:
        factory.close()
    return {f"put x1 {mode}": rate for mode, rate in zip(modes, rates, strict=True)}
