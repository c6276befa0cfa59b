"""The ``jsonlines`` infrastructure factory, the environment variables it reads, and
the ``eventsourcing.testing.environ`` entry point."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from uuid import uuid4

import eventsourcing_jsonlines.testing
import pytest
from eventsourcing_jsonlines import (
    Factory,
    JSONLinesAggregateRecorder,
    JSONLinesApplicationRecorder,
    JSONLinesProcessRecorder,
)
from eventsourcing_jsonlines.testing import environ

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)


def _event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Event", b"{}")


def test_entry_point_name_and_topic_both_select_this_factory(tmp_path: Path) -> None:
    for value in ("jsonlines", "eventsourcing_jsonlines:Factory"):
        env = {"INFRASTRUCTURE_FACTORY": value, "JSONLINES_PATH": str(tmp_path)}
        factory = InfrastructureFactory.construct("App", env)
        assert type(factory) is Factory


@pytest.mark.parametrize("env", [{}, {"JSONLINES_PATH": ""}])
def test_missing_path_is_named_in_the_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="JSONLINES_PATH is not set"):
        Factory("App", env)


def test_missing_path_is_reported_when_constructed_by_name() -> None:
    with pytest.raises(ConfigurationError, match="Set JSONLINES_PATH to the directory"):
        InfrastructureFactory.construct("App", {"INFRASTRUCTURE_FACTORY": "jsonlines"})


def test_directory_is_created_and_files_are_named_after_app_and_purpose(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "not" / "yet"
    factory = Factory("Worlds", {"JSONLINES_PATH": str(directory)})

    aggregate = factory.aggregate_recorder("snapshots")
    application = factory.application_recorder()
    process = factory.process_recorder()

    assert directory.is_dir()
    assert isinstance(aggregate, JSONLinesAggregateRecorder)
    assert isinstance(application, JSONLinesApplicationRecorder)
    assert isinstance(process, JSONLinesProcessRecorder)
    assert aggregate.path == directory / "worlds_snapshots.jsonl"
    assert application.path == directory / "worlds_events.jsonl"
    assert process.path == directory / "worlds_events.jsonl"
    assert factory.aggregate_recorder().path == directory / "worlds_events.jsonl"
    assert sorted(p.name for p in directory.iterdir()) == [
        "worlds_events.jsonl",
        "worlds_snapshots.jsonl",
    ]


def test_unnamed_application_uses_the_purpose_alone(tmp_path: Path) -> None:
    factory = Factory("", {"JSONLINES_PATH": str(tmp_path)})

    assert factory.process_recorder().path == tmp_path / "events.jsonl"
    assert factory.aggregate_recorder("snapshots").path == tmp_path / "snapshots.jsonl"


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "-dash", "a b"])
def test_application_name_that_cannot_name_a_file_is_refused(
    tmp_path: Path, name: str
) -> None:
    factory = Factory(name, {"JSONLINES_PATH": str(tmp_path)})

    with pytest.raises(ProgrammingError, match="Cannot name a JSON-lines file"):
        factory.application_recorder()
    assert list(tmp_path.iterdir()) == []


def test_application_and_process_recorders_of_one_app_share_the_events_file(
    tmp_path: Path,
) -> None:
    factory = Factory("App", {"JSONLINES_PATH": str(tmp_path)})
    process = factory.process_recorder()
    application = factory.application_recorder()

    event = _event()
    process.insert_events([event], tracking=Tracking("upstream", 1))

    assert application.select_events(event.originator_id) == [event]
    assert application.max_notification_id() == 1
    # The tracking record is in the line too; a second process recorder sees it.
    assert factory.process_recorder().max_tracking_id("upstream") == 1


def test_aggregate_and_application_recorders_refuse_a_tracking_argument(
    tmp_path: Path,
) -> None:
    factory = Factory("App", {"JSONLINES_PATH": str(tmp_path)})
    with pytest.raises(TypeError, match="cannot record a tracking record"):
        factory.application_recorder().insert_events(
            [_event()], tracking=Tracking("upstream", 1)
        )

    assert factory.process_recorder().max_tracking_id("upstream") == 0
    assert factory.application_recorder().max_notification_id() == 0


def test_prefixed_variables_win_for_their_application(tmp_path: Path) -> None:
    env = {
        "JSONLINES_PATH": str(tmp_path / "plain"),
        "WORLDS_JSONLINES_PATH": str(tmp_path / "worlds"),
        "WORLDS_JSONLINES_FSYNC": "on",
    }

    worlds = Factory("Worlds", env)
    other = Factory("Other", env)

    assert worlds.path == tmp_path / "worlds"
    assert worlds.fsync is True
    assert other.path == tmp_path / "plain"
    assert other.fsync is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("y", True), ("TRUE", True), ("1", True), ("", False), ("off", False)],
)
def test_fsync_is_read(tmp_path: Path, value: str, expected: bool) -> None:
    env = {"JSONLINES_PATH": str(tmp_path), "JSONLINES_FSYNC": value}
    factory = Factory("App", env)

    assert factory.fsync is expected
    recorder = factory.application_recorder()
    assert isinstance(recorder, JSONLinesApplicationRecorder)
    assert recorder._store.fsync is expected


def test_fsync_that_is_not_a_truth_value_is_refused(tmp_path: Path) -> None:
    env = {"JSONLINES_PATH": str(tmp_path), "JSONLINES_FSYNC": "always"}

    with pytest.raises(ConfigurationError, match="JSONLINES_FSYNC='always'"):
        Factory("App", env)


def test_path_that_is_a_file_fails_with_operational_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    factory = Factory("App", {"JSONLINES_PATH": str(not_a_directory)})

    with pytest.raises(OperationalError, match="JSONLINES_PATH a directory") as info:
        factory.application_recorder()
    assert isinstance(info.value.__cause__, OSError)


def test_testing_environ_gives_fresh_storage_under_tmp_path(tmp_path: Path) -> None:
    env = environ(tmp_path)

    assert env == {"JSONLINES_PATH": str(tmp_path / "jsonlines")}
    recorder = InfrastructureFactory.construct(
        "App", {"INFRASTRUCTURE_FACTORY": "jsonlines", **env}
    ).application_recorder()
    assert isinstance(recorder, JSONLinesApplicationRecorder)
    assert recorder.max_notification_id() == 0
    assert recorder.path.parent == tmp_path / "jsonlines"


def test_entry_points_are_registered() -> None:
    (factory,) = entry_points(group="eventsourcing.infrastructure", name="jsonlines")
    (testing_ep,) = entry_points(
        group="eventsourcing.testing.environ", name="jsonlines"
    )

    assert factory.load() is Factory
    assert testing_ep.load() is eventsourcing_jsonlines.testing


def test_test_suites_learn_that_the_files_outlive_the_process(tmp_path: Path) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "jsonlines", **environ(tmp_path)}
    factory = InfrastructureFactory.construct("App", env)
    factory.application_recorder().insert_events([_event()])
    factory.close()

    assert eventsourcing_jsonlines.testing.outlives_process is True
    # What a new process would do: read the same settings and find the event.
    again = InfrastructureFactory.construct("App", env).application_recorder()
    assert again.max_notification_id() == 1
