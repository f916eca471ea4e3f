"""``python -m benchmarks.cli_startup [--repeat 5] [--importtime]``: how long ``parkplan`` commands take to start.

Each command runs ``repeat`` times as ``python -m api.cli ...`` in a fresh process (the built-in dataset
where a command reads data); the table gives the median wall time, the median CPU seconds of the child
(user + system, from ``os.wait4``: the load of the machine changes it far less than wall time), and
which of the heavy libraries the process had imported by the time it exited (one more run, through
:mod:`runpy`). ``--importtime`` adds the ten slowest imports of ``parkplan --help`` (``python -X importtime``,
cumulative microseconds). Not a test and not part of ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

#: libraries a command should import only when it uses them
HEAVY = ("esda", "libpysal", "sklearn", "matplotlib", "folium", "dask", "numba", "fastapi", "uvicorn", "sqlalchemy",
         "geopandas", "shapely", "pyproj", "pyogrio", "pandas", "numpy", "scipy")

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",), ("info", "--help"), ("info",), ("token", "list"), ("export", "--help"), ("suitability", "--help"),
    ("map", "--help"), ("metrics", "--help"), ("serve", "--help"),
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


def _run(args: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one ``python -m api.cli *args``."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"parkplan {' '.join(args)} exited with {proc.returncode}")
    return wall, ru.ru_utime + ru.ru_stime


def heavy_loaded(args: tuple[str, ...]) -> tuple[list[str], int]:
    """The heavy libraries (:data:`HEAVY`) imported by ``parkplan *args``, and the number of modules."""
    res = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True,
                         check=True)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("HEAVY:")][-1]
    names, n = line[len("HEAVY:"):].rsplit(" ", 1)
    return [h for h in names.split(",") if h], int(n)


def importtime_top(args: tuple[str, ...] = ("--help",), n: int = 10) -> list[tuple[int, int, str]]:
    """The ``n`` top-level packages whose import took longest in ``parkplan *args`` (``python -X importtime``):
    (self us, cumulative us, package), cumulative including what the package imported first (so ``esda``
    includes ``libpysal`` and ``sklearn``)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "api.cli", *args], capture_output=True,
                         text=True, check=True)
    rows = []
    for ln in res.stderr.splitlines():
        if ln.startswith("import time:") and "|" in ln and "self [us]" not in ln:
            self_us, cum_us, name = ln[len("import time:"):].split("|")
            if "." not in name.strip():
                rows.append((int(self_us), int(cum_us), name.strip()))
    rows.sort(key=lambda r: -r[1])
    return rows[:n]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    opts = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average (1 min) {load:.2f}, "
          f"median of {opts.repeat}\n")
    print("| command | wall s | CPU s | heavy libraries imported | modules |")
    print("|---|---:|---:|---|---:|")
    for args in COMMANDS:
        _run(args)  # warm the file cache and the bytecode
        runs = [_run(args) for _ in range(opts.repeat)]
        heavy, n = heavy_loaded(args)
        print(f"| `parkplan {' '.join(args)}` | {statistics.median(r[0] for r in runs):.2f} | "
              f"{statistics.median(r[1] for r in runs):.2f} | {', '.join(heavy) or '-'} | {n} |", flush=True)
    print(f"\nload average (1 min) after: {os.getloadavg()[0]:.2f}")
    if opts.importtime:
        print("\n| package imported by `parkplan --help` | cumulative ms |\n|---|---:|")
        for _self_us, cum_us, name in importtime_top():
            print(f"| `{name}` | {cum_us / 1000:.0f} |")


if __name__ == "__main__":
    main()
