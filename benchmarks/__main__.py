"""``python -m benchmarks [names] [--quick] [--out benchmarks/RESULTS.md]``: run benchmarks, record results.

Each benchmark's section in the results file sits between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` markers and is replaced when that benchmark runs again; everything else in
the file (other benchmarks, sections written by hand or by other tools) is kept.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import Report, machine

NAMES = ("join", "ripley", "suitability", "api", "scale", "maps", "web")
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = """# parkplan benchmarks

Produced by `python -m benchmarks` (or `parkplan bench`). Each section names the exact command that
produced it, when, and on what machine. Ratios are peer time / parkplan time (above 1: parkplan is
faster). No figure here is a pass/fail threshold. The benchmark machine (2 cores) was shared with
other work while these ran: each section gives the load average before and after, and repeated runs
differed by up to about 2x in absolute times and in ratios too (the join ratio against geopandas was
13x, 5.5x and 45x in three runs under different loads): read the figures as orders of magnitude.

**Limits.** Beside the peer, each section names the *limit*: the fastest path known on this machine
for the same arithmetic (the join: a hand-written sorted-x point-in-polygon returning indices only;
Ripley's envelopes: the plain `cKDTree.count_neighbors` of each simulated pattern; batch
suitability: a numpy weighted sum of nine ready criterion matrices; Dask: the same step in one
process, per CPU-second; the web workspace: a bare server placed as parkplan's, answering at once and after
10 and 30 ms of CPU while the browsers walk). "parkplan at 1.2x the limit" means parkplan takes 1.2 times as long.
Where the machine was loaded, CPU seconds (which the load changes far less than wall time) are
given beside wall time.
"""


def available(name: str) -> bool:
    try:
        importlib.import_module(f"benchmarks.bench_{name}")
    except ModuleNotFoundError:
        return False
    return True


def run_one(name: str, size: str, **options) -> Report:
    mod = importlib.import_module(f"benchmarks.bench_{name}")
    res = mod.run(size, **options)
    if isinstance(res, Report):
        return res
    if isinstance(res, str):
        return Report(name, name.capitalize(), res)
    raise TypeError(f"benchmarks.bench_{name}.run returned {type(res).__name__}; expected benchmarks.Report")


def section(rep: Report, command: str, info: dict, elapsed: float) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mach = (f"{info.get('cores')} cores, {info.get('memory_gib')} GiB, {info.get('cpu')}; Python {info.get('python')}, "
            f"numpy {info.get('numpy')}, shapely {info.get('shapely')}, geopandas {info.get('geopandas')}; "
            f"BLAS: {info.get('blas') or 'n/a'}; OPENBLAS_CORETYPE={info.get('OPENBLAS_CORETYPE')}; "
            f"load average before / after: {info.get('loadavg_1m')} / {_load()} (other processes share the 2 cores)")
    return (f"<!-- bench:{rep.name} -->\n## {rep.title}\n\nCommand: `{command}` ({when}, benchmark took "
            f"{elapsed:.0f} s)  \nMachine: {mach}\n\n{rep.body.strip()}\n<!-- /bench:{rep.name} -->\n")


def _load():
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def write_section(path: Path, name: str, text: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n?", re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: text, old, count=1)
    else:
        # before a hand-written/other-tool section ("## Maps" etc.) would be fine too; append keeps it simple
        new = old.rstrip("\n") + "\n\n" + text
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def command_line(argv: list[str]) -> str:
    cmd = os.environ.get("PARKPLAN_BENCH_COMMAND")
    if cmd:
        return cmd
    prefix = ""
    if "OPENBLAS_CORETYPE" not in os.environ and os.environ.get("PARKPLAN_BENCH_OPENBLAS_UNSET"):
        prefix = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    return prefix + "python -m benchmarks " + " ".join(shlex.quote(a) for a in argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(NAMES)} that exist)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="smaller inputs (about a tenth) for a fast look")
    g.add_argument("--tiny", action="store_true", help="tiny inputs: checks that each benchmark runs (tests)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (markdown), default %(default)s")
    ap.add_argument("--no-write", action="store_true", help="print the sections, do not write the results file")
    ap.add_argument("--json", action="store_true", help="print the raw figures as JSON lines")
    ap.add_argument("--scheduler", help="scale: address of an existing Dask scheduler (default: a local cluster)")
    ap.add_argument("--engine", choices=("dask", "memory"), default="dask",
                    help="scale: the partitioned path (dask, default) or the in-memory path for comparison")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; accepted: {', '.join(NAMES)}")
    names = args.names or [n for n in NAMES if available(n)]
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    info = machine()
    command = command_line(argv)
    status = 0
    for name in names:
        if not available(name):
            print(f"[{name}] not available (benchmarks/bench_{name}.py missing)", file=sys.stderr)
            status = 1
            continue
        print(f"[{name}] running ({size})...", file=sys.stderr, flush=True)
        info = machine()
        t = time.perf_counter()
        options = {"scheduler": args.scheduler, "engine": args.engine} if name == "scale" else {}
        rep = run_one(name, size, **options)
        text = section(rep, command, info, time.perf_counter() - t)
        if args.json:
            print(json.dumps({"name": name, "size": size, **rep.data}, default=str))
        else:
            print(text)
        if not args.no_write:
            write_section(args.out, rep.name, text)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
