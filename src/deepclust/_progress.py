"""One progress bar helper for every long stage (rich), silent when ``verbose`` is false. Where stderr is not a
terminal (a log file, a pipe, a batch job), a bar cannot redraw and rich would show it only once it ends, so the
progress goes out as a plain line every :data:`PLAIN_EVERY_S` seconds instead."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: Seconds between two plain progress lines when stderr is not a terminal.
PLAIN_EVERY_S = 30.0


def track(iterable: Iterable[T], *, total: int | None = None, description: str = "",
          verbose: bool = True) -> Iterator[T]:
    """Iterate over ``iterable`` with progress on stderr (:func:`progress_bar`; nothing when ``verbose`` is
    false)."""
    with progress_bar(total=total, description=description, verbose=verbose) as advance:
        for item in iterable:
            yield item
            advance(_advance_of(item))


@contextmanager
def progress_bar(*, total: int | None, description: str = "", verbose: bool = True,
                 completed: int = 0) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr that starts at ``completed`` (plain lines where stderr cannot redraw a bar);
    yields ``advance(n)`` (a no-op when ``verbose`` is false)."""
    if not verbose:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not (console.is_interactive or console.is_jupyter):  # a file, a pipe, TERM=dumb
        with _plain_lines(description, total, completed) as advance:
            yield advance
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total, completed=completed)
        yield lambda n: progress.advance(task, n)


@contextmanager
def _plain_lines(description: str, total: int | None, completed: int) -> Iterator[Callable[[int], None]]:
    """Progress as a line on stderr every :data:`PLAIN_EVERY_S` seconds and one when the stage ends:
    ``deepclust pretraining autoencoder: 30/300 (10%), 6:17 elapsed, about 56:33 left``; at the end, ``finished``
    or, short of the total, ``stopped at N/M``."""
    start = last = time.monotonic()
    done = completed

    def line(finished: bool = False) -> None:
        elapsed = time.monotonic() - start
        if finished:
            text = f"{done}/{total}" if total else f"{done}"
            how = "stopped" if total and done < total else "finished"
            sys.stderr.write(f"deepclust {description}: {how} at {text} after {_clock(elapsed)}\n")
        elif total:
            step = done - completed
            left = f", about {_clock(elapsed / step * (total - done))} left" if step > 0 else ""
            sys.stderr.write(f"deepclust {description}: {done}/{total} ({done / total:.0%}), "
                             f"{_clock(elapsed)} elapsed{left}\n")
        else:
            sys.stderr.write(f"deepclust {description}: {done}, {_clock(elapsed)} elapsed\n")
        sys.stderr.flush()

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        if time.monotonic() - last >= PLAIN_EVERY_S:
            last = time.monotonic()
            line()

    try:
        yield advance
    except GeneratorExit:  # a loop that stops early (DEC at its tolerance, an error) closes the tracking generator
        line(finished=True)
        raise
    line(finished=True)


def _clock(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss``."""
    m, s = divmod(max(0, int(round(seconds))), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def say(text: str) -> None:
    """One line of progress on stderr: a stage that has no bar."""
    from rich.console import Console

    Console(stderr=True).print(f"[bold]deepclust[/bold] {text}", highlight=False)


def _advance_of(item) -> int:
    """Batches advance the bar by their length, single items by one."""
    size = getattr(item, "n_items", None)
    return int(size) if size is not None else 1
