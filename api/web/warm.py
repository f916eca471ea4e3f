"""The web workspace's part of the start-up warm-up (``parkplan serve``, ``PARKPLAN_WARM=1``): what its pages would
otherwise compute on a first visit, under the keys the pages read, so that no user waits for it.

:func:`warm` runs in the server's background warm-up thread (:meth:`api.state.AppState.warm`), after the
analyses of the API: the review sheets' county outlines and font, the parks table and every park's page (profile, sector chart), the metrics page's sector
table and every sector's charts and maps, the plan page's default view, every scenario's report view and flow map,
the parks map and the suitability map's templates (the frames of the parks and suitability pages). Chinese, the
workspace's default language; an English page is made on its first visit. With ``--workers N`` each worker process
runs it (caches are per process); the park views and the metrics page's table and sector views are computed once
for all workers (the first to get there stores them in the review database, the others read them:
:mod:`api.shared_compute`), as are the API's metrics report, clusters map and scenario plans before them.
"""

from __future__ import annotations

from ..routes.maps import warm_frames
from ..routes.transfers import warm_sheets
from ..state import AppState
from . import pages_metrics, pages_parks, pages_plan, pages_review, pages_scenarios
from .core import TEMPLATES

__all__ = ["warm", "PAGE_TEMPLATES"]

#: the templates of the pages the workspace's users walk (compiled at the warm-up)
PAGE_TEMPLATES = ("home.html", "parks.html", "park.html", "metrics.html", "suitability.html", "scenarios.html",
                  "plan.html", "review_list.html", "review_candidate.html")


def warm(state: AppState, lang: str = "zh") -> None:
    warm_sheets(state)  # the review sheets' map outlines and font: a sheet is then a fifth of a second
    pages_review.warm(state)  # the review list's rows (default language): no reviewer's first visit renders them
    pages_parks.warm(state, lang)
    pages_metrics.warm(state, lang)
    pages_plan.warm(state, lang)
    warm_frames(state, lang)  # the parks map and the suitability map's templates (the pages' frames)
    pages_scenarios.warm(state, lang)  # every scenario's report view and flow map (its plan: warmed before)
    for name in PAGE_TEMPLATES:  # compiled once per process (Jinja keeps them): not on a user's first visit
        TEMPLATES.get_template(name)
