"""A progress display for commands that take more than a few seconds: a spinner, the step it is in
(in the table language) and the time spent, on standard error, gone when the command ends."""

from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["steps"]


class _Steps:
    def __init__(self, progress: Progress, total: int):
        self._progress = progress
        self._task = progress.add_task("", total=total)

    def step(self, description: str) -> None:
        """Start the next step (the previous one counts as done)."""
        task = self._progress.tasks[0]
        if task.description:
            self._progress.advance(self._task)
        self._progress.update(self._task, description=description)
        self._progress.refresh()


@contextmanager
def steps(total: int, console, *, disable: bool = False) -> Iterator[_Steps]:
    """``with steps(3, err_console) as s: s.step("…")``: a bar of ``total`` steps showing the current one."""
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=disable)
    with progress:
        s = _Steps(progress, total)
        yield s
        progress.update(s._task, completed=total)
