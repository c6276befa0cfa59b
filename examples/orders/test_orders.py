"""Tests of the orders example on each backend: the view answers queries about
many orders, reads the shop's writes, and resumes where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import installed_backends, outlives_process

from eventsourcing.projection import ProjectionRunner
from examples.orders.application import Shop
from examples.orders.domainmodel import OrderError
from examples.orders.projection import CustomerOrders
from examples.orders.views import OpenOrder, OrdersView

VIEW_BACKENDS = ("popo", "sqlite", "postgres")


@pytest.fixture
def view_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment of the shop and its view: a backend without views of its
    own keeps the view in SQLite (variables prefixed with the projection's name)."""
    if env["INFRASTRUCTURE_FACTORY"] in VIEW_BACKENDS:
        return env
    return {
        **env,
        "CUSTOMERORDERS_INFRASTRUCTURE_FACTORY": "sqlite",
        "CUSTOMERORDERS_SQLITE_DBNAME": str(tmp_path / "views.db"),
    }


def test_the_view_answers_what_the_aggregates_cannot_answer_cheaply(
    view_env: dict[str, str],
) -> None:
    with ProjectionRunner(Shop, CustomerOrders, OrdersView, view_env) as runner:
        shop = runner.app
        first = shop.place_order("alice", 1500)
        second = shop.place_order("alice", 700)
        bobs = shop.place_order("bob", 9000)
        carols = shop.place_order("carol", 2000)
        shop.add_note(first, "gift wrap")
        shop.ship_order(bobs)
        shop.cancel_order(carols)
        runner.wait(shop.recorder.max_notification_id())

        view = runner.view
        assert view.open_orders("alice") == [
            OpenOrder(second, 700),
            OpenOrder(first, 1500),
        ]
        assert view.open_orders("bob") == []
        assert view.best_customers(2) == [("bob", 9000), ("alice", 2200)]

        # Read your writes: wait for the notification of the change.
        notification_id = shop.ship_order(first)
        runner.wait(notification_id)
        assert view.open_orders("alice") == [OpenOrder(second, 700)]
        with pytest.raises(OrderError, match="shipped"):
            shop.cancel_order(first)


# Memory keeps nothing once its application is gone, so only durable backends resume.
@pytest.mark.parametrize(
    "backend", [b for b in installed_backends() if outlives_process(b)]
)
def test_the_view_resumes_where_it_stopped(view_env: dict[str, str]) -> None:
    with ProjectionRunner(Shop, CustomerOrders, OrdersView, view_env) as runner:
        order_id = runner.app.place_order("dave", 100)
        runner.wait(runner.app.recorder.max_notification_id())

    # The shop goes on while the projection is not running.
    with Shop(env=view_env) as shop:
        shop.place_order("dave", 200)
        shop.ship_order(order_id)

    with ProjectionRunner(Shop, CustomerOrders, OrdersView, view_env) as runner:
        runner.wait(runner.app.recorder.max_notification_id())
        assert [o.amount for o in runner.view.open_orders("dave")] == [200]
        assert runner.view.best_customers(1) == [("dave", 300)]
