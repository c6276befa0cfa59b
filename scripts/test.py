"""Run the whole test suite the way CI does, then check coverage per distribution.

Used by ``hatch run test`` (the README's test command). Steps: the one-version
check; pytest over every distribution's unit tests, the cross-backend
integration suite and the examples, in parallel with pytest-xdist and with
branch coverage; then a coverage report for each distribution on its own,
failing under 100%.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distributions() -> list[Path]:
    """Every distribution: the packages and the example third-party backend."""
    folders = [*ROOT.glob("packages/*/src"), *ROOT.glob("examples/eventsourcing-*/src")]
    return sorted((src.parent for src in folders), key=lambda p: p.name)


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        help="run the integration suite on this backend only",
    )
    parser.add_argument("--integration-only", action="store_true")
    parser.add_argument("-n", "--numprocesses", default="auto")
    args, pytest_args = parser.parse_known_args(argv)

    if run([sys.executable, "scripts/version.py", "check"]) != 0:
        return 1

    env = dict(os.environ)
    if args.backend:
        env["EVENTSOURCING_TEST_BACKENDS"] = ",".join(args.backend)
    # The integration suite: contract and scenario tests on every backend, the
    # examples, which run on every backend too, and the docs' executed examples.
    integration = ["tests-integration", "examples", "docs"]
    units = [
        str(d.relative_to(ROOT) / "tests")
        for d in distributions()
        if d.parent.name == "packages"  # example backends' tests run in examples
    ]
    paths = integration if args.integration_only else [*units, *integration]
    # On one backend, only the tests that run on backends (see the root conftest).
    selection = ["-m", "on_backend"] if args.integration_only else []
    cov = [f"--cov={d.relative_to(ROOT) / 'src'}" for d in distributions()]
    pytest = [
        sys.executable,
        "-m",
        "pytest",
        "-n",
        args.numprocesses,
        "--dist",
        "worksteal",
        *([] if args.integration_only else [*cov, "--cov-report="]),
        *selection,
        *paths,
        *pytest_args,
    ]
    status = run(pytest, env)
    if status != 0 or args.integration_only or pytest_args:
        return status

    failed = []
    for dist in distributions():
        include = f"{dist.relative_to(ROOT) / 'src'}/*"
        print(f"\n== branch coverage of {dist.name} ==", flush=True)
        if (
            run(
                [
                    sys.executable,
                    "-m",
                    "coverage",
                    "report",
                    f"--include={include}",
                    "--fail-under=100",
                ]
            )
            != 0
        ):
            failed.append(dist.name)
    if failed:
        print(f"\nCoverage below 100% in: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\nAll {len(distributions())} distributions at 100% branch coverage.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
