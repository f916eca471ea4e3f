"""County and park names for commands that do not otherwise read the dataset (``token list``,
``transfers list``): only the ``counties`` and ``parks`` layers are read, and a missing or unreadable
dataset leaves the codes alone."""

from __future__ import annotations

from pathlib import Path

from ._lang import Words

__all__ = ["dataset_words"]


def dataset_words(lang: str | None, path: Path) -> Words:
    """:class:`Words` in ``lang`` with the names of ``path``'s counties and parks (codes only without them)."""
    from geodata.dataset import DatasetError, load_dataset

    try:
        ds = load_dataset(path, layers=("counties", "parks"))
    except (DatasetError, OSError):
        ds = None
    return Words(lang or "zh", ds)
