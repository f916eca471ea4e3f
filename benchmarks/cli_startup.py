"""``python -m benchmarks.cli_startup [--repeat 5] [--importtime] [--baseline DIR]``: how long ``parkplan`` commands
take to start.

Each command runs ``repeat`` times as ``python -m api.cli ...`` in a fresh process (the built-in dataset
where a command reads data); the table gives the median wall time, the median CPU seconds of the child
(user + system, from ``os.wait4``: the load of the machine changes it far less than wall time), and
which of the heavy libraries the process had imported by the time it exited (one more run, through
:mod:`runpy`). ``--importtime`` adds the ten slowest imports of ``parkplan --help`` (``python -X importtime``,
cumulative microseconds). ``--baseline DIR`` (a checkout of an older commit, e.g. ``git worktree add DIR COMMIT``)
runs each command there too, alternating with this checkout run by run, so that both see the same load.
Not a test and not part of ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: libraries a command should import only when it uses them
HEAVY = ("esda", "libpysal", "sklearn", "matplotlib", "folium", "dask", "numba", "fastapi", "uvicorn", "sqlalchemy",
         "geopandas", "shapely", "pyproj", "pyogrio", "pandas", "numpy", "scipy")

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",), ("info", "--help"), ("info",), ("token", "list"), ("export", "--help"), ("suitability", "--help"),
    ("map", "--help"), ("metrics", "--help"), ("serve", "--help"), ("suitability", "--enterprise", "E0000001"),
)

_PROBE = """
import runpy, sys
sys.argv = ["parkplan", *sys.argv[1:]]
try:
    runpy.run_module("api.cli", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
heavy = {heavy!r}
print("HEAVY:" + ",".join(h for h in heavy if h in sys.modules), len(sys.modules), file=sys.stderr)
"""


def _run(args: tuple[str, ...], root: Path = ROOT) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one ``python -m api.cli *args`` run in ``root``."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=root)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"parkplan {' '.join(args)} exited with {proc.returncode}")
    return wall, ru.ru_utime + ru.ru_stime


def heavy_loaded(args: tuple[str, ...], root: Path = ROOT) -> tuple[list[str], int]:
    """The heavy libraries (:data:`HEAVY`) imported by ``parkplan *args``, and the number of modules."""
    res = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True,
                         check=True, cwd=root)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("HEAVY:")][-1]
    names, n = line[len("HEAVY:"):].rsplit(" ", 1)
    return [h for h in names.split(",") if h], int(n)


def importtime_top(args: tuple[str, ...] = ("--help",), n: int = 10, root: Path = ROOT) -> list[tuple[int, int, str]]:
    """The ``n`` top-level packages whose import took longest in ``parkplan *args`` (``python -X importtime``):
    (self us, cumulative us, package), cumulative including what the package imported first (so ``esda``
    includes ``libpysal`` and ``sklearn``)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "api.cli", *args], capture_output=True,
                         text=True, check=True, cwd=root)
    rows = []
    for ln in res.stderr.splitlines():
        if ln.startswith("import time:") and "|" in ln and "self [us]" not in ln:
            self_us, cum_us, name = ln[len("import time:"):].split("|")
            if "." not in name.strip():
                rows.append((int(self_us), int(cum_us), name.strip()))
    rows.sort(key=lambda r: -r[1])
    return rows[:n]


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--baseline", type=Path, help="an older checkout to run alternately (before / after)")
    opts = parser.parse_args(argv)
    roots = {"after": ROOT, "before": opts.baseline} if opts.baseline else {"": ROOT}
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average (1 min) {os.getloadavg()[0]:.2f}, "
          f"median of {opts.repeat}" + (f"; before: {opts.baseline}" if opts.baseline else "") + "\n")
    cols = [f"{k} wall s | {k} CPU s".strip() for k in reversed(roots)] if opts.baseline else ["wall s | CPU s"]
    print(f"| command | {' | '.join(cols)} | heavy libraries imported{' (after)' * bool(opts.baseline)} | modules |")
    print("|---|" + "---:|---:|" * len(roots) + "---|---:|")
    for args in COMMANDS:
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in roots}
        for root in roots.values():
            _run(args, root)  # warm the file cache and the bytecode
        for _ in range(opts.repeat):
            for k, root in roots.items():
                runs[k].append(_run(args, root))
        heavy, n = heavy_loaded(args)
        figures = " | ".join("{:.2f} | {:.2f}".format(*_median(runs[k])) for k in reversed(roots))
        print(f"| `parkplan {' '.join(args)}` | {figures} | {', '.join(heavy) or '-'} | {n} |", flush=True)
    print(f"\nload average (1 min) after: {os.getloadavg()[0]:.2f}")
    if opts.importtime:
        for k, root in roots.items():
            print(f"\n| package imported by `parkplan --help` {k} | cumulative ms |\n|---|---:|")
            for _self_us, cum_us, name in importtime_top(root=root):
                print(f"| `{name}` | {cum_us / 1000:.0f} |")


if __name__ == "__main__":
    main()
