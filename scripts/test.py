"""Run the whole test suite the way CI does, then check coverage per distribution.

Used by ``hatch run test`` (the README's test command). Steps: the one-version
check; pytest over every distribution's unit tests, the cross-backend
integration suite and the examples, in parallel with pytest-xdist and with
branch coverage; a coverage report for each distribution on its own, failing
under 100%; and the suites again under each other Python the distributions
declare (see ``OTHER_PYTHONS_LEAVE_OUT``), in environments that
``scripts/envs.py`` keeps like hatch's, run meanwhile in the background at a
lower priority (their output follows the first run's).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import envs

ROOT = Path(__file__).resolve().parent.parent
# The environments of the other Pythons, one folder each (ignored by git).
VENVS = ROOT / ".venvs"

# Three full runs would not fit the test command's five minutes on two cores, so
# under the other Pythons run what proves compatibility: every distribution's unit
# tests but PostgreSQL's (together they cover every line and branch of the pure-
# Python distributions), the examples, the documentation's examples, and the
# integration scenarios, on the embedded backends (popo and SQLite). Left out,
# since it runs under the first Python and does not change with the interpreter:
# PostgreSQL (its unit tests, and every test that the root conftest marks postgres),
# which needs its server and a driver built for each Python, and whose
# module has nothing version-specific; the contract cases on each backend (each
# embedded backend's unit tests run the same cases); the type check of the typed
# example; and what tests the repository and its pure-Python packaging (the
# wheels, the guides followed in fresh environments, the documentation build, the
# benchmark script, and the round trips with 9.1.9, which install it from PyPI);
# and the stress scenarios below.
OTHER_PYTHONS_LEAVE_OUT = [
    "packages/eventsourcing-postgres/tests",
    "tests-integration/test_contract_backends.py",
    "examples/dogschool/test_typing.py",
    "tests-integration/test_install_alone.py",
    "tests-integration/test_install_from_clone.py",
    "tests-integration/test_backend_guide.py",
    "tests-integration/test_tutorial.py",
    "tests-integration/test_compat91.py",
    "tests-integration/test_bench_runs.py",
    "docs/test_docs_build.py",
    # Stress scenarios of processes and threads killed and restarted at random,
    # whose interleavings come from the operating system's scheduler, not from
    # the interpreter, and which cost the most time.
    "packages/eventsourcing-system/tests/test_system_exactly_once.py",
    "packages/eventsourcing-interface/tests/test_interface_e2e.py",
    "tests-integration/test_workers.py",
    # Whether each supported Python is found: a check of the machine, run once.
    "tests-integration/test_pythons.py",
]
OTHER_PYTHONS_BACKENDS = ["popo", "sqlite"]
# Their environments need no linters, type checker or documentation builder.
OTHER_PYTHONS_WITHOUT = ["ruff", "mypy", "sphinx", "furo", "myst-parser"]


# Twice as many pytest-xdist workers as cores: many tests spend most of their
# time waiting (on worker processes, servers, poll intervals), and with one
# worker per core the cores were idle 40% of the run.
# EVENTSOURCING_TEST_WORKERS sets another number: a test that runs a suite
# inside this one sets 1, since the outer run already keeps the cores busy.
WORKERS = os.environ.get("EVENTSOURCING_TEST_WORKERS") or str(2 * (os.cpu_count() or 1))
# The other Pythons' runs yield the cores to the first one's (see main()).
BACKGROUND_NICENESS = 5


def distributions() -> list[Path]:
    """Every distribution: the packages and the example third-party backend."""
    folders = [*ROOT.glob("packages/*/src"), *ROOT.glob("examples/eventsourcing-*/src")]
    return sorted((src.parent for src in folders), key=lambda p: p.name)


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def this_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def check_coverage() -> int:
    failed = []
    for dist in distributions():
        include = f"{dist.relative_to(ROOT) / 'src'}/*"
        print(f"\n== branch coverage of {dist.name} ==", flush=True)
        report = [sys.executable, "-m", "coverage", "report", f"--include={include}"]
        if run([*report, "--fail-under=100"]) != 0:
            failed.append(dist.name)
    if failed:
        print(f"\nCoverage below 100% in: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\nAll {len(distributions())} distributions at 100% branch coverage.")
    return 0


@dataclass
class Background:
    """The suites under another Python, run in the background."""

    version: str
    started: float
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    error: str = ""

    def wait(self) -> int:
        """Waits for the run, prints its output and returns its status."""
        print(f"\n== the suites under Python {self.version} ==", flush=True)
        if self.process is None or self.log is None:
            print(self.error, file=sys.stderr)
            return 1
        result = self.process.wait()
        self.log.seek(0)
        sys.stdout.buffer.write(self.log.read())
        sys.stdout.flush()
        self.log.close()
        return result


def start_other_python(
    version: str,
    selection: list[str],
    paths: list[str],
    pytest_args: list[str],
    workers: str,
) -> Background:
    """Starts the suites under Python ``version``, in its environment, at a
    lower priority than the first Python's run, whose idle time it uses."""
    started = time.monotonic()
    try:
        python = envs.ensure_environment(
            envs.find_python(version),
            VENVS / f"py{version}",
            without=OTHER_PYTHONS_WITHOUT,
        )
    except LookupError as error:  # no such interpreter: say so, loudly
        return Background(version, started, error=str(error))
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(python.parent.parent),
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "EVENTSOURCING_TEST_BACKENDS": os.environ.get(
            "EVENTSOURCING_TEST_BACKENDS", ",".join(OTHER_PYTHONS_BACKENDS)
        ),
    }
    # --ignore leaves out what pytest finds in a folder, not a folder it is given.
    paths = [p for p in paths if p not in OTHER_PYTHONS_LEAVE_OUT]
    leave_out = [f"--ignore={p}" for p in OTHER_PYTHONS_LEAVE_OUT]
    markers = " and ".join([*selection, "not postgres"])
    pytest = [str(python), "-m", "pytest", "-n", workers, "--dist", "worksteal"]
    cmd = [*pytest, *leave_out, "-m", markers, *paths, *pytest_args]
    print(f"+ {' '.join(cmd)}  (in the background)", flush=True)
    log = tempfile.TemporaryFile()  # noqa: SIM115 (Background.wait() closes it)
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: os.nice(BACKGROUND_NICENESS),
    )
    return Background(version, started, process, log)


def timing(version: str, result: int, started: float) -> str:
    outcome = "passed" if result == 0 else "FAILED"
    return f"Python {version}: {outcome} in {time.monotonic() - started:.0f} s"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        help="run the integration suite on this backend only",
    )
    parser.add_argument("--integration-only", action="store_true")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="run under this Python version only (3.12, ...); default: every "
        "version the distributions declare, or only this one for a focused run",
    )
    parser.add_argument("-n", "--numprocesses", default=WORKERS)
    args, pytest_args = parser.parse_known_args(argv)
    # Compiled modules are cached (in __pycache__ folders, which git ignores).
    # Without the cache every pytest worker, and every process a test starts,
    # compiles (and rewrites the asserts of) the same sources again: with
    # PYTHONDONTWRITEBYTECODE set, that was a third of the command's CPU time.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    if run([sys.executable, "scripts/version.py", "check"]) != 0:
        return 1

    supported = envs.supported_pythons()
    if this_python() not in supported:
        msg = f"This is Python {this_python()}; the distributions declare {supported}."
        print(msg, file=sys.stderr)
        return 1
    focused = bool(args.integration_only or pytest_args or args.backend)
    pythons = args.python or ([this_python()] if focused else supported)

    env = dict(os.environ)
    if args.backend:
        env["EVENTSOURCING_TEST_BACKENDS"] = ",".join(args.backend)
    # The integration suite: contract and scenario tests on every backend, the
    # examples, which run on every backend too, and the docs' executed examples
    # (which run on the embedded backends: not needed on one backend alone).
    on_backends = ["tests-integration", "examples"]
    integration = [*on_backends, "docs"]
    units = [
        str(d.relative_to(ROOT) / "tests")
        for d in distributions()
        if d.parent.name == "packages"  # example backends' tests run in examples
    ]
    paths = on_backends if args.integration_only else [*units, *integration]
    # On one backend, only the tests that run on backends (see the root conftest).
    selection = ["on_backend"] if args.integration_only else []

    # The other Pythons' runs start first, in the background and at a lower
    # priority: they use what the cores have to spare while this Python's run
    # (which measures coverage) waits on processes and servers.
    # Beside the first run, one worker per core each (every worker collects the
    # whole suite first); alone, as many as asked.
    alone = this_python() not in pythons
    background_workers = args.numprocesses if alone else str(os.cpu_count() or 1)
    others = [
        start_other_python(version, selection, paths, pytest_args, background_workers)
        for version in pythons
        if version != this_python()
    ]
    timings: list[str] = []
    status = 0
    if this_python() in pythons:
        started = time.monotonic()
        cov = [f"--cov={d.relative_to(ROOT) / 'src'}" for d in distributions()]
        measure = not focused
        pytest = [
            *(sys.executable, "-m", "pytest", "-n", args.numprocesses),
            *("--dist", "worksteal"),
            *([*cov, "--cov-report="] if measure else []),
            *(["-m", *selection] if selection else []),
            *paths,
            *pytest_args,
        ]
        status = run(pytest, env)
        if status == 0 and measure:
            status = check_coverage()
        timings.append(timing(this_python(), status, started))
    for other in others:
        result = other.wait()
        timings.append(timing(other.version, result, other.started))
        status = status or result
    if len(pythons) > 1:
        print("\n" + "\n".join(timings), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
