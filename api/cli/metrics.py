"""``parkplan metrics``: clustering metrics by sector and county, as rich tables or one JSON document."""

from __future__ import annotations

from typing import Annotated

import typer
from geodata import glossary

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ._lang import LangOption, Words, num, pct, table, translator, with_code
from ._steps import steps


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
    edge = glossary.terms(lang).get(f"cli_edge_{rp['edge_correction']}", str(rp["edge_correction"]))
    tb = table(t("cli_ripley_title", edge=edge, sims=rp["simulations"], n=rp["n"]),
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
    for pid, counts in worst:
        tb.add_row(with_code(pid, parks), *(num(counts[c]) for c in "ABCD"),
                   pct(counts["D"] / max(1, sum(counts.values()))))
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

    from ..jobs.metrics import cross_k_document, metrics_extras

    w = Words(lang)
    extras = trend + coagglomeration + duranton_overman + (cross is not None)
    try:
        with steps(3 + bool(extras), err_console) as s:
            s.step(w.t("step_load_data"))
            raw = load(data, w.lang)
            s.step(w.t("cli_step_join"))
            ds = prepare(raw)
            s.step(w.t("cli_step_metrics", sims=simulations), total=max(simulations, 1))
            doc = compute_metrics(ds, sector=sector, county=county, simulations=simulations, permutations=permutations,
                                  seed=seed, fdr=not no_fdr, eps_m=eps, min_samples=min_samples, cluster_method=method,
                                  workers=workers, progress=s.advance)
            if extras:
                s.step(w.t("cli_step_metrics_extra"))
            extra = metrics_extras(ds, sector, county, seed, simulations, trend=trend,
                                   coagglomeration=coagglomeration, duranton_overman=duranton_overman)
            if cross is not None:
                extra["cross_k"] = cross_k_document(ds, sector, cross, county, seed, simulations)
    except MetricsError as exc:
        fail(exc, lang=w.lang)
    if as_json:
        print_json({**doc, **extra})
    else:
        _print_tables(doc, top, w.lang, ds)
        _print_extras(extra, top, Words(lang, ds))


def _print_extras(extra: dict, top: int, w: Words) -> None:
    t = w.t
    if "cross_k" in extra:
        c = extra["cross_k"]
        tb = table(t("cli_cross_title", sector=w.sector(c["sector"]), other=w.sector(c["other"])),
                   [(t("cli_r_m"), R), (t("cli_L_m"), R), (t("cli_env_low"), R), (t("cli_env_high"), R),
                    (t("cli_pattern"), L)])
        for r, Lr, lo, hi in zip(c["distances"], c["L"], c["L_low"], c["L_high"], strict=True):
            flag = (t("cli_attracted") if (Lr is not None and hi is not None and Lr > hi)
                    else t("cli_repelled") if (Lr is not None and lo is not None and Lr < lo) else "")
            tb.add_row(num(r, 0), num(Lr, 0), num(lo, 0), num(hi, 0), flag)
        console.print(tb)
    if "trend" in extra:
        tb = table(t("cli_trend_title"), [(t("cli_year"), R), (t("sector"), L), (t("cli_firms"), R),
                                          (t("share_in_parks"), R), (t("hhi"), R), (t("eg_gamma"), R),
                                          (t("clark_evans_r"), R)])
        for r in extra["trend"]:
            tb.add_row(str(r["year"]), w.sector(r["sector"]), num(r["enterprises"]), pct(r["share_in_parks"]),
                       num(r["hhi"]), num(r["ellison_glaeser_gamma"]), num(r.get("clark_evans_r")))
        console.print(tb)
    if "coagglomeration" in extra:
        tb = table(t("cli_coagg_title", top=top), [(t("sector"), L), (t("cli_with_sector"), L), (t("cli_gamma_c"), R)])
        for r in extra["coagglomeration"][:top]:
            tb.add_row(w.sector(r["sector_a"]), w.sector(r["sector_b"]), num(r["coagglomeration"], 4))
        console.print(tb)
    if "duranton_overman" in extra:
        tb = table(t("cli_do_title"), [(t("sector"), L), (t("cli_n"), R), (t("cli_localised"), L), (t("cli_do_gamma"), R),
                                       (t("cli_dispersed"), L), (t("cli_bandwidth_m"), R)])
        for r in extra["duranton_overman"]:
            tb.add_row(w.sector(r["sector"]), num(r["n"]), w.yes_no(r["localised"]), num(r["localisation"], 4),
                       w.yes_no(r["dispersed"]), num(r["bandwidth_m"], 0))
        console.print(tb)


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
