"""Fixtures of the benchmarks' own tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def bench_chromium() -> str:
    """The chromium the web benchmark drives (``benchmarks.bench_web.chromium_path``); skipped where there is none,
    except in CI, where the test command installs it."""
    from benchmarks import bench_web

    try:
        return bench_web.chromium_path()
    except RuntimeError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Debian chromium is not installed (set PARKPLAN_CHROMIUM)")
