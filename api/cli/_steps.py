"""A progress display for commands that take more than a few seconds: a spinner, the step it is in
(in the table language), the step's own progress where the library reports it, and the time spent, on
standard error, gone when the command ends. Standard output is never redirected into the display (rich's
default), so ``--json`` output still goes to standard output and parses; a command that prints inside the
``with`` block calls ``s.finish()`` first.

``with steps(3, err_console) as s:`` then ``s.step("读取数据")`` at the start of each step, and
``s.update(done, total)`` inside a step whose work is counted. ``s.callback(words)`` adapts the display
to the ``progress(description, done, total)`` protocol of :mod:`parks.suitability` (``words`` turns the
library's description into the user's language).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["steps", "Steps"]


class Steps:
    """The steps of one command on a rich :class:`~rich.progress.Progress`: a counter of steps and, for
    the current step, a bar of its own work when it is counted."""

    def __init__(self, progress: Progress, total: int):
        self._progress = progress
        self.total = total
        self.n = 0
        self.description = ""
        self._task = progress.add_task("", total=None, start=True, visible=False)

    def step(self, description: str, total: int | None = None) -> None:
        """Start the next step (the previous one counts as done); ``total``: units of work it counts."""
        self.n = min(self.n + 1, self.total) if self.total else self.n + 1
        self.description = description
        self._progress.reset(self._task, total=total, completed=0, visible=True,
                             description=self._label(description))
        self._progress.refresh()

    def update(self, done: float, total: float | None = None, description: str | None = None) -> None:
        """Progress inside the current step (``done`` of ``total``); a new ``description`` renames it."""
        kw: dict[str, Any] = {} if total is None else {"total": max(total, 1)}
        if description is not None and description != self.description:
            self.description = description
            kw["description"] = self._label(description)
        self._progress.update(self._task, completed=done, **kw)

    def finish(self) -> None:
        """End the display now (before a command prints its results inside the ``with`` block)."""
        self._progress.stop()

    def advance(self, n: float = 1) -> None:
        self._progress.advance(self._task, n)

    def callback(self, words: Callable[[str], str] = str) -> Callable[[str, int, int], None]:
        """``progress(description, done, total)`` for the library: a new description starts a new step."""

        def report(description: str, done: int, total: int) -> None:
            text = words(description)
            if text != self.description:
                self.step(text, total=max(total, 1))
            self.update(done, max(total, 1))

        return report

    def _label(self, description: str) -> str:
        from rich.markup import escape

        head = f"[{self.n}/{self.total}] " if self.total else ""
        return escape(head) + escape(description)


@contextmanager
def steps(total: int, console, *, disable: bool = False) -> Iterator[Steps]:
    """``with steps(3, err_console) as s: s.step("…")``: ``total`` steps, showing the current one."""
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=disable,
                        redirect_stdout=False, redirect_stderr=False)
    with progress:
        yield Steps(progress, total)
