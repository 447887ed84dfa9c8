"""One progress bar helper for every long stage (rich), silent when ``verbose`` is false."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def track(iterable: Iterable[T], *, total: int | None = None, description: str = "",
          verbose: bool = True) -> Iterator[T]:
    """Iterate over ``iterable`` with a rich progress bar on stderr (no bar when ``verbose`` is false)."""
    with progress_bar(total=total, description=description, verbose=verbose) as advance:
        for item in iterable:
            yield item
            advance(_advance_of(item))


@contextmanager
def progress_bar(*, total: int | None, description: str = "", verbose: bool = True,
                 completed: int = 0) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr that starts at ``completed``; yields ``advance(n)`` (a no-op when ``verbose``
    is false)."""
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

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total, completed=completed)
        yield lambda n: progress.advance(task, n)


def say(text: str) -> None:
    """One line of progress on stderr: a stage that has no bar."""
    from rich.console import Console

    Console(stderr=True).print(f"[bold]deepclust[/bold] {text}", highlight=False)


def _advance_of(item) -> int:
    """Batches advance the bar by their length, single items by one."""
    size = getattr(item, "n_items", None)
    return int(size) if size is not None else 1
