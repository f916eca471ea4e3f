"""``parkplan metrics``: clustering metrics by sector and county, as rich tables or one JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geodata import glossary

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ._lang import LangOption, num, pct, table, translator, with_code

if TYPE_CHECKING:
    from parks.joins import PreparedDataset


def _f(v, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


def _table(title: str, columns: list[str]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c, justify="left" if c in ("sector", "county", "park", "name", "group", "class", "quadrant", "spot") else "right")
    return t


L, R = "left", "right"


def _print_tables(doc: dict, top: int, lang: str = "zh", ds=None) -> None:
    """The metrics document as tables in ``lang``: words from the glossary, county and park names
    beside their codes, numbers formatted."""
    t = translator(lang)
    sectors = glossary.domain("sector", lang)
    counties = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str))) if ds is not None else {}
    parks = dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str))) if ds is not None else {}
    sec = lambda s: sectors.get(str(s), t("cli_all_enterprises") if s == "all" else str(s))  # noqa: E731

    tb = table(t("cli_sectors_title"), [(t("sector"), L), (t("cli_firms"), R), (t("hhi"), R), (t("eg_gamma"), R),
                                        (t("ms_gamma"), R), (t("clark_evans_r"), R), (t("cli_z"), R),
                                        (t("morans_i"), R), (t("cli_p_sim"), R)])
    for r in doc["sectors"]:
        tb.add_row(sec(r["sector"]), num(r["enterprises"]), num(r["hhi"]), num(r["ellison_glaeser_gamma"]),
                   num(r["maurel_sedillot_gamma"]), num(r["clark_evans_r"]), num(r["clark_evans_z"], 2),
                   num(r["morans_i"]), num(r["morans_p_sim"]))
    console.print(tb)

    lq = sorted((r for r in doc["location_quotients"] if r["basis"] == "employment" and r["location_quotient"] is not None),
                key=lambda r: -r["location_quotient"])[:top]
    tb = table(t("cli_lq_title", top=top), [(t("county"), L), (t("sector"), L), (t("cli_lq"), R), (t("employees"), R)])
    for r in lq:
        tb.add_row(with_code(r["county_code"], counties), sec(r["sector"]), num(r["location_quotient"], 2),
                   num(r["value"], 0))
    console.print(tb)

    sig = [r for r in doc["lisa"] if r["quadrant"] != "ns"]
    hot = [r for r in doc["hotspots"] if r["spot"] != "ns"]
    if sig or hot:
        tb = table(t("cli_lisa_title", n_lisa=len(sig), n_spots=len(hot), top=top),
                   [(t("county"), L), (t("sector"), L), (t("quadrant"), L), (t("cli_p_sim"), R)])
        for r in sig[:top]:
            tb.add_row(with_code(r["county_code"], counties), sec(r["sector"]), t("quadrant_" + r["quadrant"]),
                       num(r["p_sim"]))
        for r in hot[:top]:
            tb.add_row(with_code(r["county_code"], counties), sec(r["sector"]), "Gi* " + t("spot_" + r["spot"]),
                       num(r["p_sim"]))
        console.print(tb)
    else:
        console.print(t("cli_lisa_none"))

    tb = table(t("cli_clusters_title", n=len(doc["clusters"]), top=top),
               [(t("cluster"), R), (t("cli_firms"), R), (t("cli_area_km2"), R), (t("dominant_sector"), L),
                (t("cli_share"), R), (t("parks"), L)])
    for r in doc["clusters"][:top]:
        names = [with_code(p, parks) for p in r["park_ids"][:4]]
        tb.add_row(str(r["cluster_id"]), num(r["n_enterprises"]), num(r["area_km2"], 1), sec(r["dominant_sector"]),
                   pct(r["dominant_share"]), "、".join(names) + (" …" if len(r["park_ids"]) > 4 else ""))
    console.print(tb)

    tb = table(t("cli_capture_title"), [(t("cli_group"), L), (t("cli_firms"), R), (t("capture_share"), R),
                                        (t("capture_employees"), R), (t("capture_revenue"), R),
                                        (t("capture_investment"), R)])
    for r in doc["park_capture"]:
        if r["by"] in ("all", "sector"):
            tb.add_row(sec(r["group"]), num(r["enterprises"]), pct(r["share_enterprises"]), pct(r["share_employees"]),
                       pct(r["share_revenue"]), pct(r["share_investment"]))
    console.print(tb)

    rp = doc["ripley"]
    tb = table(t("cli_ripley_title", edge=rp["edge_correction"], sims=rp["simulations"], n=rp["n"]),
               [(t("cli_r_m"), R), (t("cli_L_m"), R), (t("cli_env_low"), R), (t("cli_env_high"), R), (t("cli_pattern"), L)])
    for r, Lr, lo, hi in zip(rp["distances"], rp["L"], rp["envelope_low"] or [None] * len(rp["L"]),
                             rp["envelope_high"] or [None] * len(rp["L"]), strict=True):
        flag = (t("cli_clustered") if (Lr is not None and hi is not None and Lr > hi)
                else t("cli_regular") if (Lr is not None and lo is not None and Lr < lo) else "")
        tb.add_row(num(r, 0), num(Lr, 0), num(lo, 0), num(hi, 0), flag)
    console.print(tb)

    classes = {c: 0 for c in "ABCD"}
    for r in doc["per_mu"]:
        classes[r["class"]] = classes.get(r["class"], 0) + 1
    tb = table(t("cli_per_mu_title", n=len(doc["per_mu"])), [(t("cli_class"), L), (t("enterprises"), R)])
    for c, k in classes.items():
        tb.add_row(c, num(k))
    console.print(tb)
    # classes are ranked within each county (as counties evaluate), so per county the shares are fixed
    # by the rule; per park they show where the weak enterprises sit
    by_park: dict[str, dict[str, int]] = {}
    for r in doc["per_mu"]:
        if r.get("park_id"):
            by_park.setdefault(r["park_id"], dict.fromkeys("ABCD", 0))[r["class"]] += 1
    worst = sorted(by_park.items(), key=lambda kv: (-kv[1]["D"] / max(1, sum(kv[1].values())), kv[0]))[:top]
    tb = table(t("cli_per_mu_park_title", top=top), [(t("park_id"), L), ("A", R), ("B", R), ("C", R), ("D", R),
                                                     (t("cli_d_share"), R)])
    for pid, k in worst:
        tb.add_row(with_code(pid, parks), *(num(k[c]) for c in "ABCD"), pct(k["D"] / max(1, sum(k.values()))))
    console.print(tb)

    tb = table(t("cli_land_title", top=top), [(t("park_id"), L), (t("name"), L), (t("supply_rate"), R),
                                              (t("built_rate"), R), (t("floor_area_ratio"), R), (t("tax_per_ha"), R),
                                              (t("li_score"), R), (t("li_rank"), R)])
    for r in doc["land_intensity"][:top]:
        tb.add_row(r["park_id"], str(r["name"]), pct(r["supply_rate"]), pct(r["built_rate"]),
                   num(r["floor_area_ratio"], 2), num(r["tax_per_ha"], 0), num(r["score"], 1), num(r["rank"]))
    console.print(tb)


def metrics(
    sector: Annotated[str | None, typer.Option("--sector", help="One sector id, e.g. textiles (default: all).")] = None,
    county: Annotated[str | None, typer.Option("--county", help="A 6-digit county code (default: the whole province).")] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
    simulations: Annotated[int, typer.Option(min=0, help="CSR simulations for Ripley's envelope (0 = none).")] = 99,
    permutations: Annotated[int, typer.Option(min=19, max=9999, help="Permutations for Moran, LISA and Gi* p-values (19..9999: with fewer, no pseudo p-value reaches 0.05).")] = 999,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    eps: Annotated[float, typer.Option("--eps", min=1.0, help="DBSCAN radius in metres.")] = 1000.0,
    min_samples: Annotated[int, typer.Option(min=1, help="DBSCAN minimum points in the radius.")] = 10,
    method: Annotated[str, typer.Option(help="Cluster method: dbscan or hdbscan.")] = "dbscan",
    no_fdr: Annotated[bool, typer.Option("--no-fdr", help="Turn off the false-discovery-rate correction.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Threads for the envelope simulations.")] = 1,
    top: Annotated[int, typer.Option(min=1, help="Rows shown in the longer tables.")] = 10,
    trend: Annotated[bool, typer.Option("--trend", help="Also: metrics by establishment year (adds key 'trend').")] = False,
    coagglomeration: Annotated[bool, typer.Option("--coagglomeration", help="Also: EG co-agglomeration of sector pairs (adds key 'coagglomeration').")] = False,
    duranton_overman: Annotated[bool, typer.Option("--duranton-overman", help="Also: Duranton-Overman K-density localisation per sector (adds key 'duranton_overman').")] = False,
    lang: LangOption = None,
    cross: Annotated[str | None, typer.Option("--cross", help="Also: cross-K of --sector around this sector, with an envelope that redraws --sector from all enterprise sites (adds key 'cross_k').")] = None,
) -> None:
    """Clustering metrics: LQ, HHI, EG/MS gamma, Clark-Evans, Ripley's K/L, Moran/LISA/Gi*, clusters,
    park capture, per-mu evaluation, land intensity."""
    from parks.joins import prepare
    from parks.metrics import MetricsError
    from parks.metrics.report import compute_metrics

    ds = prepare(load(data))
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=simulations == 0)
    try:
        with progress:
            task = progress.add_task("CSR envelope simulations", total=simulations)
            doc = compute_metrics(ds, sector=sector, county=county, simulations=simulations, permutations=permutations,
                                  seed=seed, fdr=not no_fdr, eps_m=eps, min_samples=min_samples, cluster_method=method,
                                  workers=workers, progress=lambda k: progress.advance(task, k))
        extra = _extras(ds, sector, county, seed, simulations, trend, coagglomeration, duranton_overman)
        if cross is not None:
            extra["cross_k"] = _cross(ds, sector, cross, county, seed, simulations)
    except MetricsError as exc:
        fail(str(exc))
    if as_json:
        print_json({**doc, **extra})
    else:
        _print_tables(doc, top, lang, ds)
        _print_extras(extra, top)


def _extras(ds: PreparedDataset, sector, county, seed, simulations, trend, coagg, do) -> dict:
    """The optional parts (not in the default document, whose keys are the public contract)."""
    import shapely

    from parks.metrics import coagglomeration, duranton_overman, metrics_by_year
    from geodata.jsonable import jsonable
    from parks.metrics.report import _sector_seed

    ent = ds.enterprises
    if county is not None:
        ent = ent[ent["county_code"].astype(str) == county]
    out = {}
    if trend:
        from parks.metrics._common import area_polygon

        area = (area_polygon(ds.counties[ds.counties["code"].astype(str) == county], ds.metric_crs) if county
                else area_polygon(ds.province, ds.metric_crs))
        t = metrics_by_year(ent, study_area=area, crs=ds.metric_crs)
        out["trend"] = jsonable(t[t["sector"].isin(["all", sector] if sector else t["sector"].unique())].to_dict("records"))
    if coagg:
        c = coagglomeration(ds.enterprises)
        if sector:
            c = c[(c["sector_a"] == sector) | (c["sector_b"] == sector)]
        out["coagglomeration"] = jsonable(c.sort_values("coagglomeration", ascending=False).to_dict("records"))
    if do:
        xy_all = shapely.get_coordinates(ent.geometry.to_crs(ds.metric_crs).values)
        rows = []
        sectors = [sector] if sector else sorted(ent["sector"].dropna().unique())
        for s in sectors:
            pts = xy_all[(ent["sector"] == s).to_numpy()]
            if len(pts) < 3:
                continue
            r = duranton_overman(pts, xy_all, simulations=max(simulations, 19), seed=_sector_seed(seed, s))
            rows.append({"sector": s, "n": r.n, "localised": r.localised, "localisation": r.localisation,
                         "dispersed": r.dispersed, "dispersion": r.dispersion, "bandwidth_m": r.bandwidth_m,
                         "distances": r.distances, "kdensity": r.kdensity, "global_low": r.global_low,
                         "global_high": r.global_high})
        out["duranton_overman"] = jsonable(rows)
    return out


def _cross(ds: PreparedDataset, sector, other, county, seed, simulations) -> dict:
    import numpy as np
    import shapely

    from parks.metrics import MetricsError, cross_k, cross_k_envelope
    from parks.metrics._common import area_polygon, check_sector
    from geodata.jsonable import jsonable
    from parks.metrics.report import _sector_seed
    from parks.metrics.ripley import default_distances

    if sector is None:
        raise MetricsError("--cross needs --sector (cross-K of the sector around the --cross sector)")
    check_sector(other)
    ent = ds.enterprises
    if county is not None:
        ent = ent[ent["county_code"].astype(str) == county]
        area = area_polygon(ds.counties[ds.counties["code"].astype(str) == county], ds.metric_crs)
    else:
        area = area_polygon(ds.province, ds.metric_crs)
    pts = shapely.get_coordinates(ent.geometry.to_crs(ds.metric_crs).values)
    a, b = pts[(ent["sector"] == sector).to_numpy()], pts[(ent["sector"] == other).to_numpy()]
    r = default_distances(area)
    k = cross_k(a, b, r, polygon=area)
    env = cross_k_envelope(a, b, area, r, sites=pts, simulations=max(simulations, 19), seed=_sector_seed(seed, sector)) \
        if len(a) and len(b) else np.full((1, len(r)), np.nan)
    return jsonable({"sector": sector, "other": other, "n": len(a), "n_other": len(b), "distances": r, "K": k,
                     "L": np.sqrt(k / np.pi), "L_low": np.sqrt(env.min(axis=0) / np.pi),
                     "L_high": np.sqrt(env.max(axis=0) / np.pi), "null": "sector redrawn from all enterprise sites"})


def _print_extras(extra: dict, top: int) -> None:
    if "cross_k" in extra:
        c = extra["cross_k"]
        t = _table(f"Cross-L: {c['sector']} around {c['other']} (envelope: {c['sector']} redrawn from all sites)",
                   ["r (m)", "L (m)", "low", "high", ""])
        for r, L, lo, hi in zip(c["distances"], c["L"], c["L_low"], c["L_high"], strict=True):
            flag = "attracted" if (L is not None and hi is not None and L > hi) else "repelled" if (L is not None and lo is not None and L < lo) else ""
            t.add_row(_f(r, ",.0f"), _f(L, ",.0f"), _f(lo, ",.0f"), _f(hi, ",.0f"), flag)
        console.print(t)
    if "trend" in extra:
        t = _table("Trend by establishment year (stock of today's enterprises)",
                   ["year", "sector", "firms", "in parks", "HHI", "EG gamma", "Clark-Evans R"])
        for r in extra["trend"]:
            t.add_row(str(r["year"]), r["sector"], str(r["enterprises"]), _f(r["share_in_parks"], ".0%"), _f(r["hhi"]),
                      _f(r["ellison_glaeser_gamma"]), _f(r.get("clark_evans_r")))
        console.print(t)
    if "coagglomeration" in extra:
        t = _table(f"Co-agglomeration (EGK 2010), top {top}", ["sector", "with", "gamma_c"])
        for r in extra["coagglomeration"][:top]:
            t.add_row(r["sector_a"], r["sector_b"], _f(r["coagglomeration"], ".4f"))
        console.print(t)
    if "duranton_overman" in extra:
        t = _table("Duranton-Overman K-density", ["sector", "n", "localised", "Gamma", "dispersed", "bandwidth (m)"])
        for r in extra["duranton_overman"]:
            t.add_row(r["sector"], str(r["n"]), "yes" if r["localised"] else "no", _f(r["localisation"], ".4f"),
                      "yes" if r["dispersed"] else "no", _f(r["bandwidth_m"], ",.0f"))
        console.print(t)


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
