"""Topics, retry, strtobool and random from ``eventsourcing.utils``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC
from typing import Any
from unittest import mock

import pytest

import eventsourcing.utils as utils
from eventsourcing.domain import Aggregate
from eventsourcing.utils import (
    TopicError,
    get_topic,
    random,
    resolve_topic,
    retry,
    strtobool,
)


def test_get_topic_and_resolve_topic_of_nested_class() -> None:
    topic = get_topic(Aggregate.Created)
    # Library classes report their public module, so stored topics are public.
    assert topic == "eventsourcing.domain:Aggregate.Created"
    assert resolve_topic(topic) is Aggregate.Created
    # Topics stored under the private path still load.
    private = "eventsourcing.domain._aggregate:Aggregate.Created"
    assert resolve_topic(private) is Aggregate.Created
    assert resolve_topic("eventsourcing.domain:Aggregate") is Aggregate
    assert resolve_topic("datetime:timezone.utc") is UTC


def test_resolve_topic_of_a_module_and_a_dotted_path() -> None:
    assert resolve_topic("eventsourcing.utils:") is utils
    assert resolve_topic("eventsourcing.utils") is utils
    assert resolve_topic("datetime.timezone.utc") is UTC


def test_resolve_topic_errors_are_clear() -> None:
    with pytest.raises(TopicError, match="no module named 'no_such_mod'"):
        resolve_topic("no_such_mod:Thing")
    with pytest.raises(TopicError, match="no module named 'no_such_mod'"):
        resolve_topic("no_such_mod.Thing")
    with pytest.raises(TopicError, match="module datetime has no attribute 'Nope'"):
        resolve_topic("datetime:Nope")
    with pytest.raises(TopicError, match="datetime:timezone has no attribute 'x'"):
        resolve_topic("datetime:timezone.x")
    with pytest.raises(TopicError, match="non-empty string"):
        resolve_topic("")
    with pytest.raises(ValueError, match="<locals>"):
        resolve_topic("datetime:f.<locals>.C")


def test_resolve_topic_does_not_hide_broken_imports(tmp_path: Any) -> None:
    (tmp_path / "broken_topic_mod.py").write_text("import no_such_dependency_xyz\n")
    with mock.patch.object(sys, "path", [str(tmp_path), *sys.path]):
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
            resolve_topic("broken_topic_mod:X")
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
            resolve_topic("broken_topic_mod.X")
    sys.modules.pop("broken_topic_mod", None)


def test_resolve_topic_of_class_in_main_module() -> None:
    code = textwrap.dedent(
        """
        from eventsourcing.domain import Aggregate, Snapshot
        from eventsourcing.utils import get_topic, resolve_topic

        class World(Aggregate):
            pass

        assert get_topic(World) == "__main__:World"
        assert resolve_topic("__main__:World") is World
        world = World()
        assert Snapshot.take(world).mutate() == world
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ok"


def test_tzinfo_topic_environment_variable_is_read_at_import() -> None:
    code = "import eventsourcing.domain as d; print(d.TZINFO)"
    env = {"TZINFO_TOPIC": "tests_tz_module:TZ", "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, types, datetime;"
            "m = types.ModuleType('tests_tz_module');"
            "m.TZ = datetime.timezone(datetime.timedelta(hours=5), 'FIVE');"
            "sys.modules['tests_tz_module'] = m;" + code,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert result.stdout.strip() == "FIVE"


def test_strtobool_documented_values() -> None:
    for value in ("y", "yes", "t", "true", "on", "1", "TRUE", "Yes"):
        assert strtobool(value) is True
    for value in ("n", "no", "f", "false", "off", "0", "FALSE", "Off"):
        assert strtobool(value) is False
    for value in ("", "2", "maybe", " yes", "truthy"):
        with pytest.raises(ValueError, match="Invalid truth value"):
            strtobool(value)
    with pytest.raises(ValueError, match="Invalid truth value 1"):
        strtobool(1)  # type: ignore[arg-type]  # the point of the test


def test_random_is_in_unit_interval() -> None:
    values = [random() for _ in range(100)]
    assert all(0 <= v < 1 for v in values)
    assert len(set(values)) > 1


class Flaky:
    def __init__(self, failures: int, exc: type[Exception] = KeyError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self, value: int) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc("boom")
        return value


def test_retry_bare_makes_one_attempt() -> None:
    flaky = Flaky(1)

    @retry
    def call(value: int) -> int:
        """Docstring kept."""
        return flaky(value)

    with pytest.raises(KeyError):
        call(1)
    assert call(2) == 2
    assert flaky.calls == 2
    assert call.__doc__ == "Docstring kept."


def test_retry_with_arguments_retries_then_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flaky = Flaky(2)
    with mock.patch("time.sleep") as sleep:
        call = retry(KeyError, max_attempts=3, wait=0.5, stall=0.1, verbose=True)(flaky)
        assert call(7) == 7
    assert flaky.calls == 3
    assert [c.args[0] for c in sleep.call_args_list] == [0.1, 0.5, 0.5]
    out = capsys.readouterr().out
    assert "retrying in 0.5s (attempt 2 of 3)" in out
    assert "attempt 3 of 3" in out


def test_retry_gives_up_after_max_attempts_and_ignores_other_errors() -> None:
    flaky = Flaky(5)
    with pytest.raises(KeyError):
        retry([KeyError, ValueError], max_attempts=2)(flaky)(1)
    assert flaky.calls == 2
    other = Flaky(1, exc=RuntimeError)
    with pytest.raises(RuntimeError):
        retry((KeyError,), max_attempts=3)(other)(1)
    assert other.calls == 1


def test_retry_argument_checks() -> None:
    with pytest.raises(TypeError, match="expects exception classes"):
        retry([KeyError, "x"])  # type: ignore[list-item]  # the point of the test
    with pytest.raises(TypeError, match="expects an exception class"):
        retry(42)  # type: ignore[call-overload]  # the point of the test
    with pytest.raises(ValueError, match="max_attempts >= 1"):
        retry(KeyError, max_attempts=0)


def test_retry_with_empty_parentheses_retries_nothing() -> None:
    flaky = Flaky(1)

    @retry()
    def call(value: int) -> int:
        return flaky(value)

    with pytest.raises(KeyError):
        call(1)
    assert call(3) == 3
