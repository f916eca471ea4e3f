"""parkplan's benchmarks: parkplan's path against a peer library's path, same data, same run.

Run them with ``python -m benchmarks [names] [--quick] [--out benchmarks/RESULTS.md]`` or
``parkplan bench [names] [--quick]``. Each ``bench_<name>.py`` module has ``run(size="full"|"quick"|"tiny")``
returning a :class:`Report`; the runner writes each report into its own marked section of
``RESULTS.md`` (sections it did not run, such as the maps helper's, are kept as they are).

No benchmark is a pass/fail test: the test suite only runs each one on a tiny input.

Timing: the median of several runs (``time.perf_counter``). Memory: the peak resident set size a call
adds, measured in a forked child process (so each path starts from the same baseline and the parent's
allocator state does not hide or inflate it): the kernel's peak-RSS mark (``VmHWM``, reset before the call).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["SIZES", "Report", "median_time", "peak_rss_mb", "machine", "fmt_s", "fmt_ratio", "table"]

SIZES = ("full", "quick", "tiny")


@dataclass
class Report:
    """One benchmark's result: a markdown body (figures and notes) and the raw numbers."""

    name: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"size {size!r} not accepted; accepted: {', '.join(SIZES)}")
    return size


def median_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 0) -> tuple[float, list[float], Any]:
    """Median wall time (s) of ``repeat`` calls, all times, and the last call's result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeat)):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, result


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _proc_status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) * 1024
    return out


def _trim() -> None:
    """Give the C allocator's free pages back to the OS (glibc ``malloc_trim``), so that memory freed
    before the call and reused by it is counted when touched again."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _peak(fn: Callable[[], Any]) -> tuple[int, int]:
    """(baseline RSS, peak RSS) around ``fn()``: the kernel's high-water mark, reset first (Linux
    ``/proc/self/clear_refs``), so even a peak of a few milliseconds counts; elsewhere, sampled."""
    gc.collect()
    _trim()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        base = _proc_status()["VmRSS"]
    except (OSError, KeyError):
        return _sampled_peak(fn)
    fn()
    return base, _proc_status()["VmHWM"]


def _sampled_peak(fn: Callable[[], Any]) -> tuple[int, int]:
    gc.collect()
    base = _rss()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            stop.wait(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        fn()
    finally:
        stop.set()
        th.join()
    peak[0] = max(peak[0], _rss())
    return base, peak[0]


def peak_rss_mb(fn: Callable[[], Any]) -> float | None:
    """Peak RSS (MiB) that ``fn()`` adds above the baseline, measured in a forked child.

    Returns None where fork is unavailable. The child inherits everything already loaded (the data),
    so only what the call itself allocates is counted.
    """
    if not hasattr(os, "fork"):
        return None
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            base, peak = _peak(fn)
            os.write(w, f"{(peak - base) / 2**20:.3f}".encode())
        except BaseException:  # pragma: no cover - reported as None
            code = 1
        finally:
            os.close(w)
            os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return float(text) if text else None


def machine() -> dict[str, Any]:
    """Cores, memory, CPU, versions and the BLAS kernel in use (threadpoolctl)."""
    import psutil

    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    for mod in ("numpy", "pandas", "shapely", "geopandas", "scipy", "pointpats", "dask", "distributed",
                "dask_geopandas", "fastapi", "uvicorn"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - optional
            pass
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')} ({p.get('num_threads')} threads)"
                for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = "; ".join(blas)
    except Exception:  # noqa: BLE001
        pass
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(peer: float | None, ours: float | None) -> str:
    """How many times faster parkplan is (peer time / parkplan time)."""
    if not peer or not ours:
        return "n/a"
    return f"{peer / ours:.1f}x"


def fmt_mb(mb: float | None) -> str:
    return "n/a" if mb is None else f"{mb:,.0f} MiB"


def table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
