"""One progress bar helper for every long stage (rich), silent when ``verbose`` is false. Where stderr is not a
terminal (a log file, a pipe, a batch job), a bar cannot redraw and rich would show it only once it ends, so the
progress goes out as a plain line every :data:`PLAIN_EVERY_S` seconds instead, from a timer, so that a step that
does not advance for minutes (one k of a k search, a UMAP) still gives its line. :func:`stage` does the same for
work that has no count."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: Seconds between two plain progress lines when stderr is not a terminal.
PLAIN_EVERY_S = 30.0


def track(iterable: Iterable[T], *, total: int | None = None, description: str = "",
          verbose: bool = True) -> Generator[T, None, None]:
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
    if _live:  # a bar inside another's stage (rich draws one live display at a time): the outer one shows time
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    _live.append(description)
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(description, total=total, completed=completed)
            yield lambda n: progress.advance(task, n)
    finally:
        _live.pop()


#: The descriptions of the rich displays drawing now (at most one draws; a nested one stays quiet).
_live: list[str] = []


@contextmanager
def stage(description: str, *, verbose: bool = True) -> Iterator[None]:
    """Work without a count that may take a while (a k search's fits, a UMAP, writing a run): its line at the start;
    then, in a terminal, a spinner with the time elapsed, elsewhere a line every :data:`PLAIN_EVERY_S` seconds
    (``deepclust choosing k: 1:00 elapsed``) and one at the end when any was given."""
    if not verbose:
        yield
        return
    say(description)
    from rich.console import Console

    console = Console(stderr=True)
    if not (console.is_interactive or console.is_jupyter):
        with _plain_lines(description, None, 0, counted=False):
            yield
        return
    if _live:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    _live.append(description)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                      transient=True) as progress:
            progress.add_task(description, total=None)
            yield
    finally:
        _live.pop()


@contextmanager
def _plain_lines(description: str, total: int | None, completed: int,
                 counted: bool = True) -> Iterator[Callable[[int], None]]:
    """Progress as a line on stderr every :data:`PLAIN_EVERY_S` seconds and one when the stage ends:
    ``deepclust pretraining autoencoder: 30/300 (10%), 6:17 elapsed, about 56:33 left``; at the end, ``finished``
    or, short of the total, ``stopped at N/M``. A timer gives the line when nothing advances for an interval.
    ``counted=False`` (a :func:`stage`): only the time, and the end line only after a line was given."""
    start = last = time.monotonic()
    done = completed
    given = 0
    lock = threading.Lock()

    def line(finished: bool = False) -> None:
        nonlocal last, given
        with lock:
            _write_line(finished)
            last, given = time.monotonic(), given + 1

    def _write_line(finished: bool) -> None:
        elapsed = time.monotonic() - start
        if not counted:
            sys.stderr.write(f"deepclust {description}: {'done after ' if finished else ''}{_clock(elapsed)}"
                             f"{'' if finished else ' elapsed'}\n")
        elif finished:
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
        nonlocal done
        done += n
        if time.monotonic() - last >= PLAIN_EVERY_S:
            line()

    stop = threading.Event()

    def heartbeat() -> None:  # a line when nothing advanced for an interval
        while not stop.wait(max(PLAIN_EVERY_S - (time.monotonic() - last), 0.01)):
            if time.monotonic() - last >= PLAIN_EVERY_S:
                line()

    timer = threading.Thread(target=heartbeat, name="deepclust-progress", daemon=True)
    if PLAIN_EVERY_S > 0:
        timer.start()

    def end() -> None:
        stop.set()
        if timer.is_alive():
            timer.join()
        if counted or given:
            line(finished=True)

    try:  # a loop that stops early (DEC at its tolerance, an error) closes the tracking generator: it ends too
        yield advance
    finally:
        end()


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
