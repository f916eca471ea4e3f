"""Server CPU per visit of the pages whose frames and views issue 15 made ahead, in process:
``python -m benchmarks.profile_web_first_visits``.

The app of :mod:`benchmarks.profile_web_pages` (the web benchmark's dataset, 20,000 enterprises; its candidates
proposed; the start-up warm-up run), then, one request at a time with an analyst's session: the first visit of each
scenario's page and of its flow map (the page's frame), of the parks map and the parks page, as a fresh worker's
users meet them after the warm-up (``parkplan serve --workers N``: each worker warms its own caches); the
suitability page and its map frame for 30 new queries and the same 30 again (medians of 3 rounds of 10); and the
steady visits of parks, scenarios and plan with their frames. Process CPU per request (other processes of a loaded
machine stretch wall time, less so CPU time).
"""

from __future__ import annotations

import asyncio
import statistics


def main() -> None:
    from .bench_web import SCENARIOS
    from .profile_web_pages import _round, build

    app, pages, tmp = build(False)
    reqs = pages.requests()

    def one(path: str, query: str = ""):
        return lambda i: ("GET", path, query, pages.analyst, b"")

    async def cpu(make, n: int = 1, start: int = 0) -> float:
        c = (await _round(app, make, n, start))[0]  # CPU seconds per request
        return c * 1e3

    async def measure() -> list[tuple[str, float]]:
        out = []
        for s in SCENARIOS:
            out.append((f"first visit: scenarios?scenario={s}", await cpu(one("/ui/scenarios", f"scenario={s}"))))
            out.append((f"first visit: /scenarios/{s}/map (frame)", await cpu(one(f"/scenarios/{s}/map"))))
        out.append(("first visit: /maps/parks (frame)", await cpu(one("/maps/parks"))))
        out.append(("first visit: parks page", await cpu(one("/ui/parks"))))
        for label in ("suitability (query)", "+ suitability map (frame)"):
            new = [await cpu(reqs[label], 10, 100 + 10 * k) for k in range(3)]
            again = [await cpu(reqs[label], 10, 100 + 10 * k) for k in range(3)]  # the same 30 queries again
            out.append((f"{label}: new query, median of 3 x 10", statistics.median(new)))
            out.append((f"{label}: repeated query, median of 3 x 10", statistics.median(again)))
        for label in ("parks", "+ parks map (frame of parks)", "scenarios", "+ scenario map (frame)", "plan"):
            out.append((f"{label}: steady, median of 3 x 10",
                        statistics.median([await cpu(reqs[label], 10, 200 + 10 * k) for k in range(3)])))
        return out

    try:
        for label, ms in asyncio.run(measure()):
            print(f"{label:60s} {ms:8.1f} ms CPU")
    finally:
        app.state.parkplan.engine.dispose()
        tmp.cleanup()


if __name__ == "__main__":  # the review sheets' process pool spawns workers that import this module again
    main()
