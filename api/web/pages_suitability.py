"""``/ui/suitability``: pick an enterprise (search by name or id) or enter a profile, set the weights
(sliders, or AHP pairwise judgements whose consistency ratio must be < 0.1), and see the ranked parks
with each criterion's contribution, the excluded parks with their reasons, the sensitivity of the
ranking and the map.

The page calls the same functions as ``POST /suitability`` on the app's own suitability context, so
what the page ranks is what the API returns for the same weights.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping

import numpy as np
from fastapi import APIRouter, Request

from geodata.jsonable import jsonable
from geodata.dataset import Dataset
from geodata.schema import POLLUTION_CLASSES, SECTOR_IDS

from ..cache import LockedCache
from . import backend
from .core import lang_of
from .i18n import translator

router = APIRouter()

TOP = 20
SEARCH_LIMIT = 20
SENSITIVITY_DRAWS = 300
#: the rendered content blocks kept (per dataset version), one per language and form
CONTENTS_KEPT = 64
AHP_SCALE = ("1/9", "1/7", "1/5", "1/3", "1", "3", "5", "7", "9")
CRITERION_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def _criteria() -> tuple[str, ...]:
    from parks.suitability import CRITERIA

    return CRITERIA


def _default_weights() -> dict[str, float]:
    from parks.suitability import DEFAULT_WEIGHTS

    return dict(DEFAULT_WEIGHTS)


def _float(value, default=None):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if np.isfinite(x) else default


def _ratio(text: str) -> float | None:
    """'3' -> 3.0, '1/5' -> 0.2; only Saaty's scale values are accepted."""
    if text not in AHP_SCALE:
        return None
    if "/" in text:
        a, b = text.split("/")
        return float(a) / float(b)
    return float(text)


_SEP = "\x00"  # between two enterprises' texts in the search index (a search text never holds it)


def search_index(ds: Dataset) -> tuple:
    """What :func:`search_enterprises` compares against (the server keeps it per dataset): every enterprise's id
    lower-cased (to its positions in the order of the ids), and its id and name lower-cased in one text, all the texts
    joined into one string in the same order, with each text's start in it, and each one's row position in
    ``ds.enterprises``."""
    ent = ds.enterprises
    ids = ent["enterprise_id"].astype(str)
    order = np.argsort(ids.to_numpy(dtype=object), kind="stable")
    low = ids.str.lower().str.replace(_SEP, "", regex=False)
    text = (low + "\n" + ent["name"].astype(str).str.lower().str.replace(_SEP, "", regex=False)).to_numpy(dtype=object)[order]
    starts = np.concatenate([[0], np.cumsum([len(t) + 1 for t in text])]).tolist()
    exact: dict[str, list[int]] = {}  # lower-cased id -> its positions (lower-casing could merge two ids)
    for k, i in enumerate(low.to_numpy(dtype=object)[order].tolist()):
        exact.setdefault(i, []).append(k)
    return exact, _SEP.join(text), starts, order


def search_enterprises(ds: Dataset, q: str, limit: int = SEARCH_LIMIT, index: tuple | None = None) -> list[dict]:
    """Enterprises whose id equals ``q`` or whose name or id contains it (case-insensitive), the exact id first,
    then by id; ``index``: :func:`search_index` of ``ds`` if the caller keeps one. The joined texts are searched
    in order (``str.find``) until ``limit`` hits."""
    q = (q or "").strip()
    if not q:
        return []
    ids, blob, starts, order = index or search_index(ds)
    needle = q.lower()
    exact = ids.get(needle, [])
    found = list(exact)
    if "\n" not in needle and _SEP not in needle:
        pos = blob.find(needle)
        while pos >= 0 and len(found) < limit + len(exact):
            k = bisect.bisect_right(starts, pos) - 1
            if k not in exact:
                found.append(k)
            pos = blob.find(needle, starts[k + 1])
    if not found:
        return []
    rows = order[found[:limit]]
    cols = [c for c in ("enterprise_id", "name", "sector", "county_name", "employees", "land_ha")
            if c in ds.enterprises.columns]
    return [{k: jsonable(v) for k, v in r.items()} for r in ds.enterprises.iloc[rows][cols].to_dict("records")]


def weights_from_form(form: Mapping[str, str]) -> dict[str, float]:
    """Slider values ``w_<criterion>`` (0-100); criteria without a value take the default."""
    defaults = _default_weights()
    out = {}
    for c in _criteria():
        x = _float(form.get(f"w_{c}"))
        out[c] = max(x, 0.0) if x is not None else round(100 * defaults[c])
    return out


def form_refusal(form: Mapping[str, str]):
    """The first weight slider (``w_<criterion>``) or ``max_distance_km`` whose typed text is not a number the
    model takes, as the model's coded refusal (``weights.not_finite``, ``weights.negative``,
    ``constraint.max_distance_km``), the criterion by its name in each language; None when every field is a
    number or empty. :func:`weights_from_form` keeps the sliders where they were for the page; the page then
    refuses instead of ranking with a default the user did not choose."""
    from geodata.messages import Localised
    from parks.suitability import SuitabilityError
    from parks.suitability.criteria import CRITERIA_LABELS_ZH

    for c in _criteria():
        raw = form.get(f"w_{c}")
        if raw is None or not str(raw).strip():
            continue
        x = _float(raw)
        name = Localised(c, CRITERIA_LABELS_ZH.get(c, c))
        if x is None:
            return SuitabilityError("weights.not_finite", criterion=name, value=str(raw))
        if x < 0:
            return SuitabilityError("weights.negative", criterion=name, value=x)
    raw = form.get("max_distance_km")
    if raw is not None and str(raw).strip():
        x = _float(raw)
        if x is None or x <= 0:
            return SuitabilityError("constraint.max_distance_km", value=str(raw) if x is None else x)
    return None


def ahp_from_form(form: Mapping[str, str]):
    """The pairwise matrix from ``ahp_<i>_<j>`` (i < j, Saaty scale) and its :func:`parks.suitability.ahp` result."""
    from parks.suitability import ahp

    crit = _criteria()
    n = len(crit)
    a = np.ones((n, n))
    for i, j in itertools.combinations(range(n), 2):
        r = _ratio(form.get(f"ahp_{i}_{j}", "1")) or 1.0
        a[i, j], a[j, i] = r, 1.0 / r
    return ahp(a, crit)


def constraints_from_form(form: Mapping[str, str]) -> dict:
    out = {}
    if form.get("less_developed_only"):
        out["less_developed_only"] = True
    d = _float(form.get("max_distance_km"))
    if d is not None and d > 0:
        out["max_distance_km"] = d
    return out


def _typed(value, default: float) -> float | str:
    """A typed number; an empty field is ``default``; text that is not a finite number is passed on as typed, for
    the model to refuse by name (``profile.number``: the page shows the field and the value, escaped), never
    silently read as 0."""
    if value is None or not str(value).strip():
        return default
    x = _float(value)
    return str(value) if x is None else x


def profile_from_form(form: Mapping[str, str]) -> dict | None:
    if form.get("p_sector") not in SECTOR_IDS:
        return None
    employees = _typed(form.get("p_employees"), 0.0)
    return {"sector": form.get("p_sector"), "land_ha": _typed(form.get("p_land_ha"), 0.0),
            "employees": int(employees) if isinstance(employees, float) else employees,
            "pollution_class": form.get("p_pollution_class", "light"),
            "lon": _typed(form.get("p_lon"), 0.0), "lat": _typed(form.get("p_lat"), 0.0),
            "name": (form.get("p_name") or None)}


def contribution_bars(ranked: list[dict]) -> list[list[dict]]:
    """Per ranked park the stacked segments (x, width in a 0-300 px bar) of each criterion's contribution."""
    crit = _criteria()
    scale = 300.0
    out = []
    for r in ranked:
        x = 0.0
        segs = []
        for c, color in zip(crit, CRITERION_COLORS, strict=True):
            v = r["criteria"][c]["contribution"] or 0.0
            w = v * scale
            segs.append({"criterion": c, "x": round(x, 2), "w": round(w, 2), "color": color, "value": v,
                         "score": r["criteria"][c]["score"], "raw": r["criteria"][c]["value"]})
            x += w
        out.append(segs)
    return out


def _run(request: Request, form: Mapping[str, str]) -> dict:
    """Everything the page shows for one submitted form (or query string)."""
    from geodata.messages import message
    from parks.suitability import SuitabilityError, score_enterprise
    from parks.suitability.sensitivity import weight_sensitivity

    ds = backend.dataset(request)
    mode = form.get("mode") if form.get("mode") in ("sliders", "ahp") else "sliders"
    query = (form.get("q") or "").strip()
    matches = search_enterprises(ds, form.get("q", ""),
                                 index=backend.cached(request, "enterprise_search", lambda: search_index(ds)))
    view: dict = {"form": dict(form), "mode": mode, "matches": matches,
                  "no_match": query if query and not matches else None,
                  "slider_weights": weights_from_form(form), "error": None, "result": None, "ahp": None}
    enterprise = (form.get("enterprise_id") or "").strip() or None
    profile = profile_from_form(form) if not enterprise else None
    weights = view["slider_weights"]
    if mode == "ahp":
        res = ahp_from_form(form)
        view["ahp"] = {"cr": res.cr, "consistent": res.consistent, "weights": res.weights, "worst_pair": res.worst_pair}
        if not res.consistent:
            return view  # refused: no ranking with inconsistent judgements
        weights = dict(res.weights)
    target = enterprise or profile
    if target is None:
        return view
    refused = form_refusal(form)
    if refused is not None:  # a weight or distance typed as text, or below zero: said, never read as a default
        view["error"] = message(refused, lang_of(request))
        return view
    if profile and not all(isinstance(profile[k], float) for k in ("lon", "lat")):  # typed text: refused as typed
        view["error"] = message(SuitabilityError("profile.lonlat", lon=profile["lon"], lat=profile["lat"]),
                                lang_of(request))
        return view
    ctx = backend.suitability_context(request)
    constraints = constraints_from_form(form)
    try:
        result = score_enterprise(ctx, target, weights, constraints, top=TOP).to_dict()
        sens = weight_sensitivity(ctx, target, weights, constraints, n=SENSITIVITY_DRAWS, seed=0).head(10)
    except LookupError:
        view["error"] = translator(lang_of(request))("enterprise_unknown", query=enterprise or "")
        return view
    except SuitabilityError as exc:
        view["error"] = message(exc, lang_of(request))
        return view
    names = backend.cached(request, "park_names", lambda: dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str))))
    view["result"] = result
    view["bars"] = contribution_bars(result["ranked"])
    view["sensitivity"] = [{"park_id": r.park_id, "name": names.get(r.park_id, ""), "p_rank1": r.p_rank1,
                            "p_top3": r.p_top3, "mean_rank": r.mean_rank} for r in sens.itertuples()]
    view["weights_used"] = result["weights"]
    view["enterprise_id"] = enterprise
    view["map_params"] = map_params(enterprise, profile, weights, constraints)
    return view


def map_params(enterprise: str | None, profile: dict | None, weights: Mapping[str, float] | None = None,
               constraints: Mapping | None = None) -> dict:
    """Query parameters of ``GET /maps/suitability`` for the enterprise or the typed-in profile, with the
    weights (as given, before normalisation, so the map ranks exactly as the page) and constraints."""
    if enterprise:
        out = {"enterprise_id": enterprise}
    elif profile:
        out = {k: profile[k] for k in ("sector", "land_ha", "employees", "pollution_class", "lon", "lat")}
        if profile.get("name"):
            out["profile_name"] = profile["name"]
    else:
        return {}
    if weights:
        out["weights"] = ",".join(f"{c}:{float(w)!r}" for c, w in weights.items())
    for key, value in (constraints or {}).items():
        out[key] = "true" if value is True else value
    return out


def _form_key(request: Request, form: Mapping[str, str]) -> tuple:
    """The page's form without the CSRF token, in the language asked: what the view and the content follow from."""
    return lang_of(request), tuple(sorted((k, form[k]) for k in form if k != "csrf_token"))


def _view(request: Request, form: Mapping[str, str]) -> dict:
    """:func:`_run` once per dataset version, language and form (the ranking, the sensitivity draws with their
    fixed seed and the search follow from these alone), kept in the app's page-view cache; the CSRF token is not
    part of the form the view is made from."""
    form = {k: form[k] for k in form if k != "csrf_token"}
    return backend.page_view(request, ("suitability", *_form_key(request, form)), lambda: _run(request, form))


def _render(request: Request, context: dict, form: Mapping[str, str], user):
    """The page as :func:`api.web.core.render` makes it, its ``content`` block (the form, the ranking, the
    sensitivity: 60-85 kB, 5-8 ms of Jinja per visit) rendered once per dataset version, language and form
    (:func:`api.web.backend.render_content_cached`, the search form's CSRF token put in per request) and kept in a
    bounded cache of its own (:data:`CONTENTS_KEPT` forms, held in the web cache per dataset version; not in the
    page-view cache, where it would push out as many views)."""
    contents = backend.cached(request, "suitability_contents",
                              lambda: LockedCache(CONTENTS_KEPT, "suitability-content"))
    _lang, fields = _form_key(request, form)  # render_content_cached keys by the language itself
    return backend.render_content_cached(request, "suitability.html", context, (fields,), user, keep=contents)


def _page(request: Request, form: Mapping[str, str], user):
    view = _view(request, form)
    crit = _criteria()
    pairs = [{"i": i, "j": j, "a": crit[i], "b": crit[j], "value": form.get(f"ahp_{i}_{j}", "1")}
             for i, j in itertools.combinations(range(len(crit)), 2)]
    from parks.suitability.weights import CR_LIMIT, RANDOM_INDEX

    return _render(request, {**view, "criteria": crit, "colors": dict(zip(crit, CRITERION_COLORS)),
                             "ri": RANDOM_INDEX[len(crit)], "cr_limit": CR_LIMIT,
                             "pairs": pairs, "scale": AHP_SCALE, "sectors": SECTOR_IDS,
                             "pollution_classes": POLLUTION_CLASSES}, form, user)


@router.get("/ui/suitability", include_in_schema=False)
def suitability_page(request: Request, user: backend.AnalystPage):
    return _page(request, request.query_params, user)


@router.post("/ui/suitability", include_in_schema=False)
def suitability_submit(request: Request, post: backend.AnalystPost):
    return _page(request, {k: str(v) for k, v in post.form.items()}, post.user)
