"""Print throughput figures for each backend, with raw-driver floors and targets.

Usage: ``hatch run bench [--quick | --smoke] [--backend NAME ...] [--section NAME ...]``
(or ``python benchmarks/bench.py``). Backends: ``popo``, ``sqlite`` (both
``sqlite:memory``, a plain ":memory:" database, and ``sqlite:file``) and
``postgres`` (the server named by ``POSTGRES_HOST``, ``POSTGRES_DBNAME`` and
friends, else a throwaway one started by ``tests-integration/pgserver.py``).
Sections: ``persistence``, ``application``, ``system``, ``formats``,
``projection``. Every figure
is the best of 3 runs, since a busy machine only ever makes a run slower.

persistence: events written per second through ``EventStore.put()`` and
``recorder.insert_events()`` in batches of 1 and 10, events read per second by
``EventStore.get()`` and ``recorder.select_events()`` of a 1000-event sequence,
and notifications read per second by ``select_notifications()`` in pages of 100;
the same rows written and read with sqlite3 and psycopg2 as floors.
application: aggregates (of 10 events, saved after each) saved per second by
``app.save()`` and by ``app.events.put()``; aggregates of 1000 events got per
second by ``app.repository.get()``, with and without a snapshot, and by the
event store directly; notifications read per second through ``app.log``
sections and through the recorder.
system: events per second from leader save to follower tracking, with each
runner and over HTTP, against the leader application saving alone.
formats: checksummed against plain state, record-bound against 9.1's AES
ciphertexts, and SQLite file commits with synchronous FULL against NORMAL.
projection: events per second a projection catches up with into a SQL view,
against the same statements and position writes with sqlite3 and psycopg2 alone
(target: at least 0.6 of that), and the latency of ``wait()`` after a save
(p50 and p99), on POPO, SQLite files and PostgreSQL.
workers (PostgreSQL only): events per second by 1, 2 and 4 worker processes of
a follower whose policy spends 1 ms of CPU per event; latency from a leader's
commit to the follower's position, woken by notifications and by polling
only; catch-up rate of one worker against the single-threaded runner.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import bench_application
import bench_formats
import bench_persistence
import bench_projection
import bench_system
import bench_workers
from bench_common import ALIASES, BACKENDS, Config, backend_env, print_table

SECTIONS = ("persistence", "application", "system", "formats", "projection", "workers")
FLOORS = {
    "sqlite:memory": "raw:memory",
    "sqlite:file": "raw:file",
    "postgres": "raw:psycopg2",
}


def run_backends(
    backends: list[str],
    fn: Callable[[dict[str, str], Config], dict[str, float]],
    cfg: Config,
) -> dict[str, dict[str, float]]:
    """``{figure: {backend: rate}}`` for every backend that could be measured."""
    rows: dict[str, dict[str, float]] = {}
    for name in backends:
        try:
            with backend_env(name) as env:
                results = fn(env, cfg)
        except Exception as e:  # report what could not be measured, and go on
            print(f"\n{name}: not measured ({e.__class__.__name__}: {e})")
            continue
        for figure, value in results.items():
            rows.setdefault(figure, {})[name] = value
    return rows


def ratio_line(label: str, value: float, target: str, ok: bool) -> None:
    print(f"  {label:<44}{value:>8.2f}   target {target:<8} {'ok' if ok else 'MISSED'}")


def persistence(backends: list[str], cfg: Config) -> None:
    rows = run_backends(backends, bench_persistence.library, cfg)
    floors: dict[str, dict[str, float]] = {}
    for name in backends:
        if name not in FLOORS:
            continue
        try:
            if name == "postgres":
                floors[FLOORS[name]] = bench_persistence.raw_postgres(cfg)
            else:
                memory = name == "sqlite:memory"
                floors[FLOORS[name]] = bench_persistence.raw_sqlite(cfg, memory=memory)
        except Exception as e:  # report what could not be measured, and go on
            print(f"\n{FLOORS[name]}: not measured ({e.__class__.__name__}: {e})")
    for floor, results in floors.items():
        for figure, value in results.items():
            rows.setdefault(figure, {})[floor] = value
    columns = [b for b in backends if any(b in r for r in rows.values())]
    columns += list(floors)
    print_table(
        f"Persistence ({cfg.events} events per write figure, best of {cfg.repeats})",
        rows,
        columns,
        "events/s",
    )
    print("\nLibrary cost / raw floor cost (lower is better)")
    print("  recorder figures: the same rows, transactions and pragmas as the floor")
    for name, floor in FLOORS.items():
        if floor not in floors or name not in columns:
            continue
        for figure in ("insert x1", "insert x10", "select 1000", "notifications"):
            value = floors[floor][figure] / rows[figure][name]
            ratio_line(f"{name} {figure}", value, "<= 1.5", value <= 1.5)
    print("  event store figures: also map (JSON, topics), which the floor skips")
    for name, floor in FLOORS.items():
        if floor not in floors or name not in columns:
            continue
        for figure in ("put x1", "put x10", "get 1000"):
            same = bench_persistence.FLOOR_OF[figure]
            value = floors[floor][same] / rows[figure][name]
            ratio_line(f"{name} {figure} vs raw {same}", value, "<= 1.5", value <= 1.5)
    if "postgres" in columns and FLOORS["postgres"] in floors:
        locked = floors[FLOORS["postgres"]]
        for figure in ("insert x1", "insert x10"):
            value = locked[f"{figure} +lock"] / rows[figure]["postgres"]
            ratio_line(f"postgres {figure} vs raw +lock", value, "<= 1.5", value <= 1.5)
    if "popo" in columns and "sqlite:memory" in columns:
        print("\nPOPO speed-up over in-memory SQLite (higher is better)")
        for figure in rows:
            if "popo" in rows[figure] and "sqlite:memory" in rows[figure]:
                value = rows[figure]["popo"] / rows[figure]["sqlite:memory"]
                ratio_line(f"popo {figure}", value, ">= 4", value >= 4)


def application(backends: list[str], cfg: Config) -> None:
    rows = run_backends(backends, bench_application.library, cfg)
    columns = [b for b in backends if any(b in r for r in rows.values())]
    print_table(
        f"Application ({cfg.aggregates} aggregates of 10 events saved after each "
        f"event; {cfg.reads // 1000} gets of 1000 events; best of {cfg.repeats})",
        rows,
        columns,
        "per second",
    )
    print("\nApplication overhead over the event store (lower is better)")
    for app_figure, direct in bench_application.OVERHEADS:
        for name in columns:
            if name in rows.get(app_figure, {}) and name in rows.get(direct, {}):
                value = rows[direct][name] / rows[app_figure][name] - 1
                label = f"{name} {app_figure.replace(' (app)', '')}"
                print(
                    f"  {label:<44}{value * 100:>7.1f}%   target <= 30%    "
                    f"{'ok' if value <= 0.3 else 'MISSED'}"
                )


def system(backends: list[str], cfg: Config) -> None:
    rows = run_backends(backends, bench_system.library, cfg)
    columns = [b for b in backends if any(b in r for r in rows.values())]
    for name in ("sqlite:memory", "sqlite:file"):
        if name in columns:
            floor = bench_system.raw_sqlite(cfg, memory=name == "sqlite:memory")
            for figure, value in floor.items():
                rows[figure][FLOORS[name]] = value
            columns.append(FLOORS[name])
    print_table(
        f"System ({cfg.system_aggregates * 10} events, saved one by one; the "
        f"follower records its position; best of {cfg.repeats})",
        rows,
        columns,
        "events/s",
    )
    print("\nSystem throughput / leader saving alone (higher is better)")
    for figure in ("single-threaded", "multi-threaded", "http prompted"):
        for name in columns:
            if name.startswith("raw"):
                continue
            if name in rows.get(figure, {}) and name in rows.get("leader alone", {}):
                value = rows[figure][name] / rows["leader alone"][name]
                if figure == "single-threaded" and name.startswith("sqlite"):
                    ratio_line(f"{name} {figure}", value, ">= 0.5", value >= 0.5)
                else:
                    print(f"  {name + ' ' + figure:<44}{value:>8.2f}")
    for name in ("sqlite:memory", "sqlite:file"):
        raw = FLOORS[name]
        if raw in rows.get("leader alone", {}) and name in rows["leader alone"]:
            # Seconds per event of the follower's statements alone (sqlite3), and
            # of the library's leader saving alone.
            follower = 1 / rows["single-threaded"][raw] - 1 / rows["leader alone"][raw]
            leader = 1 / rows["leader alone"][name]
            value = leader / (leader + follower)
            print(
                f"  {name + ' ceiling':<44}{value:>8.2f}   (library leader + "
                f"raw follower statements: {follower * 1e6:.1f} us/event)"
            )


def projection(backends: list[str], cfg: Config) -> None:
    chosen = [b for b in backends if b in bench_projection.BACKENDS]
    rows = run_backends(chosen, bench_projection.library, cfg)
    columns = [b for b in chosen if any(b in r for r in rows.values())]
    rates: dict[str, dict[str, float]] = {
        f: rows[f] for f in ("catch-up", "catch-up raw") if f in rows
    }
    print_table(
        f"Projection catch-up ({cfg.events} events into a SQL view, pages of "
        f"{bench_projection.PAGE}; best of {bench_projection.repeats(cfg)}, in "
        "turns with the raw floor)",
        rates,
        columns,
        "events/s",
    )
    latencies: dict[str, dict[str, float]] = {
        f: rows[f] for f in ("wait p50 (us)", "wait p99 (us)") if f in rows
    }
    print_table(
        f"Read your writes ({cfg.aggregates} saves, each waited for)",
        latencies,
        columns,
        "microseconds",
    )
    print("\nProjection catch-up / raw statements (higher is better)")
    for name in columns:
        if name in rates.get("catch-up raw", {}):
            value = rates["catch-up"][name] / rates["catch-up raw"][name]
            ratio_line(f"{name} catch-up / raw", value, ">= 0.6", value >= 0.6)


def formats(backends: list[str], cfg: Config) -> None:
    measured = run_backends(backends, bench_formats.library, cfg)
    rows = {k: v for k, v in measured.items() if not k.startswith("cost: ")}
    columns = [b for b in backends if any(b in r for r in rows.values())]
    print_table(
        "Formats (events put one at a time, gets of 1000 events; the best of many "
        "short runs, pairs taking turns)",
        rows,
        columns,
        "events/s",
    )
    print("\nCost of the new format over the one it replaces (lower is better)")
    print("  the median of the ratios of runs side by side")
    print(f"  checksums by {bench_formats.crc32_name()}")
    for new, _ in bench_formats.PAIRS:
        for name in columns:
            value = measured.get(f"cost: {new}", {}).get(name)
            if value is not None:
                print(
                    f"  {name + ' ' + new:<44}{value * 100:>7.1f}%   target <= 10%    "
                    f"{'ok' if value <= 0.1 else 'MISSED'}"
                )
    if "sqlite:file" in backends:
        durable = run_backends(["sqlite:file"], bench_formats.durability, cfg)
        print_table(
            "SQLite file commits: synchronous FULL (the default) and NORMAL",
            durable,
            ["sqlite:file"],
            "events/s",
        )
        full = durable.get("put x1 FULL", {}).get("sqlite:file")
        normal = durable.get("put x1 NORMAL", {}).get("sqlite:file")
        if full and normal:
            print(f"  NORMAL / FULL{normal / full:>39.2f}   (what durability costs)")


def workers(backends: list[str], cfg: Config) -> None:
    print("\nWorkers (PostgreSQL; separate processes; 4 partitions)")
    if "postgres" not in backends:
        print("  measured on PostgreSQL only: add --backend postgres")
        return
    try:
        with backend_env("postgres") as env:
            results = bench_workers.run(env, quick=cfg.quick)
    except Exception as e:  # report what could not be measured, and go on
        print(f"  not measured ({e.__class__.__name__}: {e})")
        return
    print(f"  {'events/s, policy of 1 ms CPU':<44}")
    for figure in ("1 worker", "2 workers", "4 workers"):
        print(f"  {figure:<44}{results[figure]:>8,.0f}")
    value = results["2 workers"] / results["1 worker"]
    ratio_line("2 workers / 1 worker", value, ">= 1.7", value >= 1.7)
    print("  latency, leader's commit to follower's position (ms)")
    for mode in ("notified", "polled"):
        seconds = results[f"latency {mode}"]
        p50 = bench_workers.percentile(seconds, 0.5) * 1000
        p99 = bench_workers.percentile(seconds, 0.99) * 1000
        print(f"  {mode + f' p50 ({len(seconds)} samples)':<44}{p50:>8.1f}")
        if mode == "notified":
            ratio_line(f"{mode} p99", p99, "< 100", p99 < 100)
        else:
            print(f"  {mode + ' p99 (polling every 1 s)':<44}{p99:>8.1f}")
    print(f"  {'catch-up events/s, trivial policy':<44}")
    print(f"  {'one worker':<44}{results['catch-up worker']:>8,.0f}")
    print(f"  {'single-threaded runner':<44}{results['catch-up runner']:>8,.0f}")
    value = results["catch-up worker"] / results["catch-up runner"]
    ratio_line("worker / runner", value, ">= 0.8", value >= 0.8)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small numbers, fast")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny numbers, once: checks that every figure prints (the numbers "
        "mean nothing)",
    )
    parser.add_argument(
        "--backend", action="append", choices=sorted(ALIASES), help="repeatable"
    )
    parser.add_argument(
        "--section", action="append", choices=SECTIONS, help="repeatable"
    )
    args = parser.parse_args(argv)
    cfg = Config.make(quick=args.quick, smoke=args.smoke)
    names = args.backend or ["popo", "sqlite", "postgres"]
    chosen = {backend for name in names for backend in ALIASES[name]}
    backends = [b for b in BACKENDS if b in chosen]
    sections = {
        "persistence": persistence,
        "application": application,
        "system": system,
        "formats": formats,
        "projection": projection,
        "workers": workers,
    }
    for section in args.section or SECTIONS:
        sections[section](backends, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
