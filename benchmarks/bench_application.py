"""Application figures: what the application layer (save, repository, log) costs
over doing the same work directly with its event store and recorder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench_common import Account, Config, best_rate, unique_name

from eventsourcing.application import Application

SECTION = Application.log_section_size  # the default section size of app.log


def make_app(env: dict[str, str], **more: str) -> Application:
    cls = type("BenchApplication", (Application,), {"name": unique_name("app")})
    app: Application = cls(env={**env, **more})
    return app


def close(app: Application) -> None:
    close = getattr(app.factory, "close", None)
    if close is not None:
        close()


def library(env: dict[str, str], cfg: Config) -> dict[str, float]:
    """Rates through the application, and through its event store directly."""
    app = make_app(env, IS_SNAPSHOTTING_ENABLED="y")
    store = app.events
    results: dict[str, float] = {}
    m = cfg.aggregates

    def saving(save: Callable[[Account], object]) -> Callable[[], Callable[[], None]]:
        def setup() -> Callable[[], None]:
            def run() -> None:
                for _ in range(m):
                    account = Account.create()
                    save(account)
                    for i in range(9):
                        account.credit(i)
                        save(account)

            return run

        return setup

    results["save agg (app)"] = best_rate(cfg.repeats, m, saving(app.save))
    results["save agg (store)"] = best_rate(
        cfg.repeats, m, saving(lambda a: store.put(a.collect_events()))
    )

    account = Account.create()
    for i in range(999):
        account.credit(i)
    app.save(account)
    plain = Account.create()
    for i in range(999):
        plain.credit(i)
    app.save(plain)
    app.take_snapshot(account.id)
    assert app.snapshots is not None
    snapshots = app.snapshots
    reps = max(1, cfg.reads // 1000)

    def gets(get: Callable[[], Any]) -> Callable[[], Callable[[], None]]:
        def run() -> None:
            for _ in range(reps):
                get()

        return lambda: run

    def direct(aggregate_id: Any) -> Any:
        aggregate = None
        gt = None
        snapshot: Any
        for snapshot in snapshots.get(aggregate_id, desc=True, limit=1):
            aggregate = snapshot.mutate(None)
            gt = snapshot.originator_version
        event: Any
        for event in store.get(aggregate_id, gt=gt):
            aggregate = event.mutate(aggregate)
        return aggregate

    assert direct(plain.id).balance == app.repository.get(plain.id).balance
    assert direct(account.id).balance == app.repository.get(account.id).balance
    results["get 1000 (app)"] = best_rate(
        cfg.repeats, reps, gets(lambda: app.repository.get(plain.id))
    )
    results["get 1000 (store)"] = best_rate(
        cfg.repeats, reps, gets(lambda: direct(plain.id))
    )
    snap_reps = reps * 20
    results["get snapshot (app)"] = best_rate(
        cfg.repeats,
        snap_reps,
        gets(lambda: [app.repository.get(account.id) for _ in range(20)]),
    )
    results["get snapshot (store)"] = best_rate(
        cfg.repeats, snap_reps, gets(lambda: [direct(account.id) for _ in range(20)])
    )

    count = min(app.recorder.max_notification_id(), cfg.reads)
    count -= count % SECTION

    def log() -> None:
        for a in range(1, count, SECTION):
            app.log[f"{a},{a + SECTION - 1}"]

    def select() -> None:
        for a in range(1, count, SECTION):
            app.recorder.select_notifications(a, SECTION)

    results["log sections (app)"] = best_rate(cfg.repeats, count, lambda: log)
    results["log sections (rec)"] = best_rate(cfg.repeats, count, lambda: select)
    close(app)
    return results


# (application figure, direct figure) pairs whose overhead is printed.
OVERHEADS = (
    ("save agg (app)", "save agg (store)"),
    ("get 1000 (app)", "get 1000 (store)"),
    ("get snapshot (app)", "get snapshot (store)"),
    ("log sections (app)", "log sections (rec)"),
)
