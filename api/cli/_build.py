"""Building the built-in dataset with the progress display: ``parkplan init``, and the first use of a
command without ``--data`` (:func:`api.cli._common.resolve_data_path`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._lang import Words
from ._steps import steps

__all__ = ["build_with_steps"]

#: where ``build_builtin_dataset`` reports which fraction of its work is done, and the step that follows
BUILD_STEPS = ((0.0, "cli_step_boundaries"), (0.05, "cli_step_protected"), (0.1, "cli_step_parks"),
               (0.2, "cli_step_enterprises"), (0.8, "cli_step_series"))


def build_with_steps(path: Path, console, lang: str, **options: Any):
    """Build the built-in dataset (``options`` as :func:`geodata.builtin.build_builtin_dataset` takes them)
    and save it to ``path``, showing the step on ``console``; returns the dataset. The builder's errors
    (``BoundaryError``, ``ValueError``) pass through."""
    from geodata.builtin import build_builtin_dataset
    from geodata.dataset import save_dataset

    w = Words(lang)
    with steps(len(BUILD_STEPS) + 1, console) as s:
        def report(fraction: float) -> None:
            key = [k for at, k in BUILD_STEPS if fraction >= at][-1]
            if w.t(key) != s.description:
                s.step(w.t(key), total=100)
            s.update(round(100 * fraction), 100)

        s.step(w.t(BUILD_STEPS[0][1]), total=100)  # the builder reports its first fraction after this step
        ds = build_builtin_dataset(progress=report, **options)
        s.step(w.t("cli_step_write", path=path))
        save_dataset(ds, path)
    return ds
