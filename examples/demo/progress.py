"""Progress of the workload: a live bar with count, rate and ETA on a terminal,
and a plain line every tenth of the way otherwise, so that a log stays readable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """The rate, such as "1,812 commands/s" (rich's own speed column shows bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        shown = "?" if speed is None else f"{speed:,.0f}"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed")


class PlainProgress:
    """Writes a line such as "4000/20000 commands (20%), 812/s, ETA 20s" whenever
    another tenth of the total is done."""

    def __init__(
        self,
        total: int,
        unit: str,
        write: Callable[[str], object],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = total
        self.unit = unit
        self.write = write
        self.clock = clock
        self.done = 0
        self.started = clock()
        self._tenths = 0
        self._next_line_at = 0
        self._step()

    def advance(self) -> None:
        self.done += 1
        if self.done >= self._next_line_at:
            self._report()
            self._step()

    def _step(self) -> None:
        while self._next_line_at <= self.done and self._tenths < 10:
            self._tenths += 1
            self._next_line_at = -(-self.total * self._tenths // 10)  # ceiling
        if self._next_line_at <= self.done:
            self._next_line_at = self.total + 1  # every line is written

    def _report(self) -> None:
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.done >= self.total:
            when = f"done in {elapsed:.1f}s"
        elif rate:
            when = f"ETA {(self.total - self.done) / rate:.0f}s"
        else:
            when = "ETA ?"
        count = f"{self.done}/{self.total} {self.unit}"
        percent = 100 * self.done // self.total
        self.write(f"  {count} ({percent}%), {rate:,.0f}/s, {when}")


@contextmanager
def progress(
    total: int, unit: str, console: Console | None = None
) -> Iterator[Callable[[], None]]:
    """Yields a function to call once per unit of work done."""
    console = console or Console()
    if not console.is_terminal:
        # Not a terminal (a pipe, a file, a CI log): no redrawn frames.
        plain = PlainProgress(total, unit, write=lambda line: console.out(line))
        yield plain.advance
        return
    columns = (
        TextColumn("  "),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        RateColumn(unit),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("workload", total=total)
        advance = bar.advance
        yield lambda: advance(task)
