"""``parkplan suitability``: rank the parks for one enterprise, or score a whole scenario in batch.

One enterprise (``--enterprise ID`` or a profile ``--sector ... --lon ... --lat ...``): a table of
the best parks with each criterion's contribution, or with ``--json`` exactly the document that
``POST /suitability`` returns (:meth:`parks.suitability.SuitabilityResult.to_dict`).

A scenario (``--scenario urban-core|scattered|coastal-transfer``): every selected enterprise scored
against every park under the scenario's rules (vectorised, with a progress bar showing the step),
optionally allocated under the parks' free land (``--allocate``, ``--cap``), written with ``-o`` to
CSV, GeoPackage or Excel by the file's suffix. ``--scenario all``: the joint plan
(:func:`parks.suitability.joint.joint_plan`), the scenarios against one pool of free land in the
order of ``--priority`` or with ``--scenario-weights``. Every spreadsheet cell goes through
:func:`geodata.spreadsheet.safe_frame`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape

from geodata.messages import Localised, listing, message

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ._lang import LangOption, Words, num, pct, table
from ._messages import CLI, WHAT_AHP, WHAT_WEIGHTS
from ._steps import Steps, steps

if TYPE_CHECKING:
    from parks.joins import PreparedDataset

__all__ = ["register", "suitability", "read_mapping_file"]


def register(app: typer.Typer) -> None:
    app.command("suitability")(suitability)


def read_mapping_file(path: Path, what: Localised, lang: str | None = None) -> dict:
    """A JSON or TOML file as a mapping (by suffix; unknown suffix: JSON, then TOML); ``what`` names it in the
    refusals (:data:`api.cli._messages.WHAT_WEIGHTS`), shown in ``lang``."""
    import tomllib

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(CLI("cli.file_unreadable", what=what, path=path, reason=str(exc.strerror or exc)), lang=lang)
    suffix = Path(path).suffix.lower()
    parsers = [("TOML", tomllib.loads)] if suffix == ".toml" else [("JSON", json.loads)] if suffix == ".json" else \
        [("JSON", json.loads), ("TOML", tomllib.loads)]
    errors = []
    for name, parse in parsers:
        try:
            doc = parse(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{name}: {exc}")
            continue
        if not isinstance(doc, dict):
            fail(CLI("cli.file_not_mapping", what=what, path=path, got=type(doc).__name__), lang=lang)
        return doc
    formats = CLI("cli.json_or_toml") if len(parsers) > 1 else parsers[0][0]
    fail(CLI("cli.file_not_parsable", what=what, path=path, formats=formats, reasons="; ".join(errors)), lang=lang)
    return {}  # pragma: no cover


def _weights(weights_file: Path | None, ahp_file: Path | None, w: Words) -> dict | None:
    from parks.suitability import SuitabilityError, ahp_from_mapping, weights_from_mapping
    from parks.suitability.weights import GroupAHPResult

    if weights_file and ahp_file:
        fail(CLI("cli.weights_and_ahp"), lang=w.lang)
    try:
        if weights_file:
            return weights_from_mapping(read_mapping_file(weights_file, WHAT_WEIGHTS, w.lang))
        if ahp_file:
            weights, result = ahp_from_mapping(read_mapping_file(ahp_file, WHAT_AHP, w.lang))
            offices = result.offices if isinstance(result, GroupAHPResult) else None
            combined = result.combined if isinstance(result, GroupAHPResult) else result
            err_console.print(w.t("cli_ahp_accepted", cr=num(combined.cr)), highlight=False, markup=False)
            for name, r in (offices or {}).items():
                err_console.print("  " + w.t("cli_ahp_office", office=name, cr=num(r.cr))
                                  + ("" if r.consistent else "  " + w.t("cli_ahp_office_inconsistent")),
                                  highlight=False, markup=False)
            return weights
    except SuitabilityError as exc:
        fail(exc, lang=w.lang)
    return None


def _constraints(land_margin, protected_buffer_m, max_distance_km, less_developed_only, include_current_park) -> dict:
    out: dict[str, Any] = {}
    if land_margin is not None:
        out["land_margin"] = land_margin
    if protected_buffer_m is not None:
        out["protected_buffer_m"] = protected_buffer_m
    if max_distance_km is not None:
        out["max_distance_km"] = max_distance_km
    if less_developed_only:
        out["less_developed_only"] = True
    if include_current_park:
        out["exclude_current_park"] = False
    return out


def _write(table, output: Path, geometry, lang: str | None = None, writer=None) -> None:
    from ..jobs.suitability import write_table

    try:
        write_table(table, output, geometry=geometry, writer=writer)
    except ValueError as exc:
        fail(exc, lang=lang)


def _write_outputs(table, output: Path, geometry, w: Words, wrote: str, parks=None, park_layer=None,
                   report=None) -> None:
    """A plan's files: the table, then with an allocation its parks' land use (``parks``) and the report's sheets;
    an .xlsx in one pass, put in place when every sheet is written (:func:`api.jobs.suitability.xlsx_output`).
    ``wrote`` is said once the table is written, then where the rest went."""
    from ..jobs.suitability import append_plan_sheets, write_parks_table, xlsx_output

    said = [wrote]
    with xlsx_output(output) as xw:
        _write(table, output, geometry, w.lang, writer=xw)
        if parks is not None:
            said.append(w.t("cli_wrote_parks_land", path=write_parks_table(parks, output, park_layer, writer=xw)))
            where = append_plan_sheets(report, output, writer=xw)
            if where:
                said.append(w.t("cli_wrote_report", path=where))
    for line in said:
        _said(line)


def _print_result(doc: dict, w: Words) -> None:
    from parks.suitability.criteria import CRITERIA

    t = w.t
    e = doc["enterprise"]
    who = e.get("enterprise_id") or t("entered_profile")
    console.print(t("cli_enterprise_head", who=who, name=e.get("name") or "", sector=w.sector(e["sector"]),
                    land=num(e["land_ha"], 2), employees=num(e["employees"]),
                    pollution=w.pollution(e["pollution_class"]),
                    catalogue=w.catalogue(e.get("catalogue_level"))), highlight=False, markup=False)
    if doc["flag"]:
        console.print(f"[red]{escape(t('flag_closure'))}[/red]", markup=True)
    tb = table(t("cli_ranked_title", shown=len(doc["ranked"]), total=doc["ranked_total"]),
               [(t("rank"), "right"), (t("park_name"), "left"), (t("county"), "left"), (t("score"), "right"),
                (t("cli_strongest_criteria"), "left")])
    for r in doc["ranked"]:
        best = sorted(CRITERIA, key=lambda c: -r["criteria"][c]["contribution"])[:3]
        tb.add_row(str(r["rank"]), w.park(r["park_id"]), w.county(r.get("county_code")), num(r["score"]),
                   w.sep().join(f"{w.criterion(c)} {num(r['criteria'][c]['contribution'], 2)}" for c in best))
    console.print(tb)
    if doc["excluded"]:
        counts: dict[str, int] = {}
        for x in doc["excluded"]:
            for reason in x["reasons"]:
                counts[reason["code"]] = counts.get(reason["code"], 0) + 1
        tb = table(t("cli_excluded_title", n=len(doc["excluded"])), [(t("reasons"), "left"), (t("parks"), "right")])
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            tb.add_row(w.excluded(k), num(v))
        console.print(tb)


def _profile(sector, land_ha, employees, pollution_class, lon, lat, lang: str | None = None) -> dict | None:
    given = {"sector": sector, "land_ha": land_ha, "employees": employees, "pollution_class": pollution_class,
             "lon": lon, "lat": lat}
    if all(v is None for v in given.values()):
        return None
    missing = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is None and k != "pollution_class"]
    if missing:
        fail(CLI("cli.profile_needs", options=listing(missing)), lang=lang)
    given["pollution_class"] = pollution_class or "light"
    return given


def suitability(
    enterprise: Annotated[Optional[str], typer.Option("--enterprise", help="enterprise_id of an enterprise in the dataset.")] = None,
    scenario: Annotated[Optional[str], typer.Option("--scenario", help="Batch: urban-core, scattered, coastal-transfer, or all (the joint plan).")] = None,
    weights_file: Annotated[Optional[Path], typer.Option("--weights", help="TOML or JSON: criterion id -> weight (missing ones 0).")] = None,
    ahp_file: Annotated[Optional[Path], typer.Option("--ahp", help="TOML or JSON AHP judgements: {criteria, matrix|judgements} or {offices: {...}}.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Parks to show per enterprise.")] = 10,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write results to .csv, .gpkg or .xlsx.")] = None,
    sector: Annotated[Optional[str], typer.Option("--sector", help="Profile: sector id.")] = None,
    land_ha: Annotated[Optional[float], typer.Option("--land-ha", min=0, help="Profile: land need (ha).")] = None,
    employees: Annotated[Optional[int], typer.Option("--employees", min=0, help="Profile: employees.")] = None,
    pollution_class: Annotated[Optional[str], typer.Option("--pollution-class", help="Profile: light, medium or heavy.")] = None,
    lon: Annotated[Optional[float], typer.Option("--lon", help="Profile: current site longitude (WGS 84).")] = None,
    lat: Annotated[Optional[float], typer.Option("--lat", help="Profile: current site latitude (WGS 84).")] = None,
    land_margin: Annotated[Optional[float], typer.Option("--land-margin", min=0, help="Free land must exceed need x (1 + margin); default 0.1.")] = None,
    protected_buffer_m: Annotated[Optional[float], typer.Option("--protected-buffer-m", min=0, help="Exclude parks within this distance of a protected area; default 200.")] = None,
    max_distance_km: Annotated[Optional[float], typer.Option("--max-distance-km", min=0, help="Exclude parks farther than this from the current site.")] = None,
    less_developed_only: Annotated[bool, typer.Option("--less-developed-only", help="Only parks in less-developed counties.")] = False,
    include_current_park: Annotated[bool, typer.Option("--include-current-park", help="Keep the enterprise's own park as a candidate.")] = False,
    sensitivity: Annotated[int, typer.Option("--sensitivity", min=0, help="Weight draws for P(rank 1)/P(top 3) (0 = off).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sensitivity draws.")] = 0,
    allocate: Annotated[bool, typer.Option("--allocate", help="Scenario: allocate under free land (MILP).")] = False,
    cap: Annotated[Optional[int], typer.Option("--cap", min=0, help="Scenario allocation: at most this many enterprises per park.")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.01, help="Allocation solver time limit (s), per scenario.")] = 30.0,
    priority: Annotated[Optional[str], typer.Option("--priority", help="--scenario all: the order, e.g. urban-core,coastal-transfer,scattered (default).")] = None,
    scenario_weights: Annotated[Optional[str], typer.Option("--scenario-weights", help="--scenario all: weights instead of an order, e.g. urban-core:2,scattered:1.")] = None,
    city_band_km: Annotated[Optional[float], typer.Option("--city-band-km", min=0, help="urban-core: parks in the own city or within this distance (default 30).")] = None,
    county_band_km: Annotated[Optional[float], typer.Option("--county-band-km", min=0, help="scattered: parks in the own county or within this distance (default 20).")] = None,
    key_bonus: Annotated[Optional[float], typer.Option("--key-bonus", min=0, help="Allocation priority of key enterprises and small giants (objective bonus, default 0).")] = None,
    candidates: Annotated[int, typer.Option("--candidates", min=1, help="Candidate parks per enterprise for the allocation.")] = 10,
    mip_gap: Annotated[float, typer.Option("--mip-gap", min=0, max=1, help="Allocation: optimal within this relative gap (default 0.005).")] = 0.005,
    data: DataOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Rank the parks for one enterprise (by id or profile), or score a scenario's enterprises in batch."""
    from parks.suitability import Constraints, SuitabilityError, score_enterprise

    profile = _profile(sector, land_ha, employees, pollution_class, lon, lat, lang)
    targets = sum(x is not None for x in (enterprise, scenario, profile))
    if targets != 1:
        fail(CLI("cli.one_target"), lang=lang)
    w = Words(lang)
    weights = _weights(weights_file, ahp_file, w)
    try:
        cons = Constraints.from_mapping(_constraints(land_margin, protected_buffer_m, max_distance_km,
                                                     less_developed_only, include_current_park))
    except SuitabilityError as exc:
        fail(exc, lang=w.lang)
    if scenario is not None:
        sp = _scenario_params(city_band_km, county_band_km, key_bonus, w.lang)
        if scenario != "all" and (priority or scenario_weights):
            fail(CLI("cli.priority_for_all"), lang=w.lang)
        from parks.suitability.scenarios import SCENARIOS

        if scenario != "all" and scenario not in SCENARIOS:
            fail(CLI("cli.scenario_unknown", scenario=scenario, accepted=listing(SCENARIOS)), lang=w.lang)
        # load, join, context; the library's steps (select, score, allocate per scenario, or select and score
        # per scenario and one allocation with --scenario-weights); the report; writing; printing
        if scenario == "all":
            k = len(_parse_scenario_weights(scenario_weights, w.lang)) if scenario_weights else len(SCENARIOS)
            n = 3 + (2 * k + 1 if scenario_weights else 3 * k) + 1
        else:
            n = 3 + 3 + bool(allocate)
        n += output is not None
        with steps(n, err_console) as progress:
            ds, ctx = _prepared(data, progress, w)
            if scenario == "all":
                _joint(ds, ctx, weights, cons, sp, priority, scenario_weights, candidates, output, cap, time_limit,
                       as_json, mip_gap, progress, w)
            else:
                _scenario(ds, ctx, scenario, weights, cons, top, output, allocate, cap, time_limit, as_json, sp,
                          candidates, mip_gap, progress, w)
        return
    with steps(3, err_console) as progress:
        ds, ctx = _prepared(data, progress, w)
    target = enterprise if enterprise is not None else profile
    assert target is not None  # exactly one of enterprise, scenario and profile (checked above); not the scenario
    try:
        result = score_enterprise(ctx, target, weights, cons, top=top)
        doc = result.to_dict()
        sens = None
        if sensitivity:
            from parks.suitability.sensitivity import weight_sensitivity

            sens = weight_sensitivity(ctx, target, weights, cons, n=sensitivity, seed=seed)
    except LookupError as exc:
        fail(message(exc, w.lang).strip("'\""), lang=w.lang)
    except SuitabilityError as exc:
        fail(exc, lang=w.lang)
    if output is not None:
        _write_single(doc, output, w.lang)
    if as_json:
        if sens is not None:
            doc = dict(doc, sensitivity=json.loads(sens.to_json(orient="records")))
        print_json(doc)
        return
    w = Words(w.lang, ds)
    _print_result(doc, w)
    if sens is not None:
        tb = table(w.t("cli_sensitivity_title", n=sensitivity, seed=seed),
                   [(w.t("park_name"), "left"), (w.t("score"), "right"), (w.t("p_rank1"), "right"),
                    (w.t("p_top3"), "right"), (w.t("mean_rank"), "right")])
        for r in sens.head(top).itertuples():
            tb.add_row(w.park(r.park_id), num(r.score), pct(r.p_rank1), pct(r.p_top3), num(r.mean_rank, 1))
        console.print(tb)
        pn = sens.attrs.get("p_nearest_wins")
        if pn is not None:
            near = sens[sens["nearest"]].iloc[0]
            console.print(w.t("cli_nearest_wins", park=w.park(near["park_id"]), km=num(near["distance_km"], 1),
                              share=pct(pn)), highlight=False, markup=False)


def _write_single(doc: dict, output: Path, lang: str | None = None) -> None:
    import pandas as pd

    from parks.suitability.criteria import CRITERIA

    from ..jobs.suitability import write_table

    rows = []
    for r in doc["ranked"]:
        row = {"enterprise_id": doc["enterprise"].get("enterprise_id"), "rank": r["rank"], "park_id": r["park_id"],
               "name": r.get("name"), "county_code": r.get("county_code"), "score": r["score"]}
        for c in CRITERIA:
            row[f"{c}_value"] = r["criteria"][c]["value"]
            row[f"{c}_score"] = r["criteria"][c]["score"]
            row[f"{c}_contribution"] = r["criteria"][c]["contribution"]
        rows.append(row)
    for x in doc["excluded"]:
        rows.append({"enterprise_id": doc["enterprise"].get("enterprise_id"), "rank": None, "park_id": x["park_id"],
                     "name": x.get("name"), "county_code": x.get("county_code"),
                     "excluded_reasons": ";".join(r["code"] for r in x["reasons"])})
    frame = pd.DataFrame(rows)
    if output.suffix.lower() == ".gpkg":
        fail(CLI("cli.gpkg_single"), lang=lang)
    write_table(frame, output)
    err_console.print(Words(lang).t("cli_wrote", path=output), highlight=False, markup=False)


def _scenario_params(city_band_km, county_band_km, key_bonus, lang=None):
    from parks.suitability import SuitabilityError
    from parks.suitability.scenarios import ScenarioParams

    kw = {}
    if city_band_km is not None:
        kw["urban_core_band_km"] = city_band_km
    if county_band_km is not None:
        kw["scattered_band_km"] = county_band_km
    if key_bonus is not None:
        kw["key_bonus"] = key_bonus
    try:
        return ScenarioParams(**kw)
    except SuitabilityError as exc:
        fail(exc, lang=lang)


def _prepared(data, progress: Steps, w: Words):
    """Load and join the dataset and build the suitability context, each a step of ``progress``."""
    from parks.joins import prepare
    from parks.suitability import context_from_dataset

    progress.step(w.t("step_load_data"))
    raw = load(data, w.lang)
    progress.step(w.t("cli_step_join"))
    ds = prepare(raw)
    progress.step(w.t("cli_step_context"))
    return ds, context_from_dataset(ds)


_LIBRARY_STEP = re.compile(r"(selecting|scoring|allocating) (.+)")


def _step_words(w: Words):
    """The library's step descriptions (``scoring urban-core``, ``allocating the joint plan``) in words."""

    def words(description: str) -> str:
        m = _LIBRARY_STEP.fullmatch(description)
        if m is None:
            return description
        verb, what = m.groups()
        return w.t(f"cli_step_{verb}", scenario=w.t("cli_joint_plan") if what == "the joint plan" else w.scenario(what))

    return words


def _report(ds: PreparedDataset, plan, w: Words):
    """The planner's report on ``plan`` (:func:`parks.suitability.plan_report.report_for_plan`); None, with a
    warning, if it cannot be made (the report is an extra: never lose the plan for it)."""
    from parks.suitability.plan_report import report_for_plan

    try:
        return report_for_plan(ds, plan)
    except Exception as exc:  # noqa: BLE001 - shown to the user, the plan is still written
        err_console.print(f"[yellow]{escape(w.t('cli_report_not_written'))}: {escape(type(exc).__name__)}: "
                          f"{escape(message(exc, w.lang))}[/yellow]", markup=True)
        return None


def _print_report(report, w: Words, top: int = 5) -> None:
    """The planner's report as tables: summary, the parks taking the most and why, the unplaced and why,
    the sanity checks (:mod:`parks.suitability.plan_report`'s words in ``w``'s language)."""
    if report is None:
        return
    from parks.suitability.plan_report import label

    t, lang = w.t, w.lang
    s = report.summary
    cols = [c for c in ("scenario", "enterprises", "assigned", "assigned_share", "jobs_moved", "land_ha", "median_km",
                        "p90_km", "own_county_share", "own_city_share", "median_detour_km", "detour_share")
            if c in s.columns]
    tb = table(label("table_summary", lang), [(label(c, lang), "left" if c == "scenario" else "right") for c in cols])
    for r in s[cols].to_dict("records"):
        tb.add_row(*[w.scenario(r[c]) if c == "scenario" else pct(r[c]) if c.endswith("_share")
                     else num(r[c], 1) if c.endswith(("_km", "_ha")) else num(r[c], 0) for c in cols])
    console.print(tb)
    tp = report.top_parks
    if len(tp):
        tp = tp[tp["rank"] <= top]
        tb = table(label("table_top_parks", lang), [(label("scenario", lang), "left"), (label("rank", lang), "right"),
                                                    (label("park_name", lang), "left"), (label("county", lang), "left"),
                                                    (label("firms", lang), "right"), (label("land_ha", lang), "right"),
                                                    (label("why", lang), "left")])
        for r in tp.to_dict("records"):
            tb.add_row(w.scenario(r["scenario"]), num(r["rank"], 0), w.park(r["park_id"]), str(r.get("county") or "-"),
                       num(r["firms"], 0), num(r["land_ha"], 1), str(r.get(f"why_{lang}") or "-"))
        console.print(tb)
    un = report.unplaced
    if len(un):
        tb = table(label("table_unplaced", lang), [(label("scenario", lang), "left"), (label("reason", lang), "left"),
                                                   (label("firms", lang), "right"), (label("share", lang), "right"),
                                                   (label("jobs", lang), "right")])
        for r in un.to_dict("records"):
            tb.add_row(w.scenario(r["scenario"]), w.unplaced(r["reason"]), num(r["firms"], 0), pct(r["share"]),
                       num(r["jobs"], 0))
        console.print(tb)
    fl = report.flags
    if len(fl):
        tb = table(label("table_flags", lang), [(label("scenario", lang), "left"), (label("flag", lang), "left"),
                                                (label("message", lang), "left")])
        for r in fl.to_dict("records"):
            tb.add_row(w.scenario(r["scenario"]), label(f"flag_{r['flag']}", lang), str(r[f"message_{lang}"]))
        console.print(tb)
    else:
        console.print(t("no_flags"), highlight=False, markup=False)


def _print_warnings(caught, w: Words) -> None:
    from parks.suitability.scenarios import ScenarioWarning

    for warning in caught:
        if issubclass(warning.category, ScenarioWarning):
            from geodata.messages import message

            colon = "：" if w.lang == "zh" else ": "
            err_console.print(f"[yellow]{escape(w.t('cli_warning'))}{colon}{escape(message(warning.message, w.lang))}[/yellow]",
                              markup=True)


def _scenario(ds: PreparedDataset, ctx, scenario, weights, cons, top, output, allocate, cap, time_limit, as_json, sp=None,
              candidates=10, mip_gap=0.005, progress: Steps | None = None, w: Words | None = None) -> None:
    import warnings

    from parks.suitability import SuitabilityError
    from parks.suitability.joint import plan_scenario
    from parks.suitability.scenarios import ScenarioWarning

    from ..jobs.suitability import scenario_table

    w = Words(w.lang if w else "zh", ds)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            plan = plan_scenario(ctx, ds.enterprises, scenario, weights, cons, params=sp,
                                 candidates=max(top, candidates if allocate else top), cap=cap,
                                 time_limit=time_limit if allocate else 0.0, mip_rel_gap=mip_gap,
                                 progress=progress.callback(_step_words(w)) if progress else None)
        _print_warnings(caught, w)
    except SuitabilityError as exc:
        fail(exc, lang=w.lang)
    selected, batch = plan.selected, plan.batch
    alloc = plan.allocation if allocate else None
    if len(batch.top) and top < int(batch.top["rank"].max()):
        from dataclasses import replace

        batch = replace(batch, top=batch.top[batch.top["rank"] <= top].reset_index(drop=True))
    table_ = scenario_table(selected, batch, alloc)
    report = None
    if alloc is not None:
        if progress:
            progress.step(w.t("cli_step_report"))
        report = _report(ds, plan, w)
    if output is not None:
        if progress:
            progress.step(w.t("cli_step_write", path=output))
        geometry = None
        if output.suffix.lower() == ".gpkg":
            geo = selected.assign(enterprise_id=selected["enterprise_id"].astype(str)).set_index("enterprise_id").geometry
            geometry = geo.reindex(table_["enterprise_id"]).to_crs(4326).to_numpy()
        _write_outputs(table_, output, geometry, w, w.t("cli_wrote_rows", rows=num(len(table_)), path=output),
                       alloc.parks if alloc is not None else None, ds.parks, report)
    s = batch.summary
    doc = {
        "scenario": scenario,
        "selected": int(len(selected)),
        "with_feasible_park": int((s["n_feasible"] > 0).sum()),
        "flagged_closure_or_upgrade": int((s["flag"] == "closure_or_upgrade").sum()),
        "weights": batch.weights,
        "constraints": batch.constraints,
        "best_parks": {str(k): int(v) for k, v in s["best_park_id"].value_counts().head(10).items()},
        "output": str(output) if output else None,
    }
    if alloc is not None:
        a = alloc.assignments
        got = plan.assignments[plan.assignments["status"] == "assigned"]
        doc["allocation"] = {"status": alloc.status, "objective": alloc.objective, "mip_gap": alloc.mip_gap,
                             "bound": alloc.bound, "seconds": round(alloc.seconds, 2),
                             "assigned": int((a["status"] == "assigned").sum()),
                             "unassigned": {str(k): int(v) for k, v in a["reason"].value_counts().items()},
                             "land_used_ha": float(alloc.parks["land_used_ha"].sum()),
                             "median_distance_km": float(got["distance_km"].median()) if len(got) else None}
        if report is not None:
            doc["report"] = {"summary": report.to_dict()["summary"]}
    if progress:
        progress.finish()
    if as_json:
        print_json(doc)
        return
    t = w.t
    console.print(t("cli_scenario_head", scenario=w.scenario(scenario), selected=num(doc["selected"]),
                    feasible=num(doc["with_feasible_park"]), flagged=num(doc["flagged_closure_or_upgrade"])),
                  highlight=False, markup=False)
    tb = table(t("cli_best_parks_title"), [(t("park_name"), "left"), (t("county"), "left"), (t("enterprises"), "right")])
    park_county = dict(zip(ds.parks["park_id"].astype(str), ds.parks["county_code"].astype(str)))
    for k, v in doc["best_parks"].items():
        tb.add_row(w.park(k), w.county(park_county.get(k)), num(v))
    console.print(tb)
    if alloc is not None:
        al = doc["allocation"]
        tb = table(t("cli_allocation_title"), [(t("cli_item"), "left"), (t("cli_value"), "right")])
        tb.add_row(t("allocation_status"), w.alloc_status(al["status"]))
        tb.add_row(t("mip_gap"), pct(al["mip_gap"], 2))
        tb.add_row(t("cli_solver_seconds"), num(al["seconds"], 2))
        tb.add_row(t("cli_assigned"), num(al["assigned"]))
        for reason, n in al["unassigned"].items():
            tb.add_row(t("cli_unassigned_because", reason=w.unplaced(reason)), num(n))
        tb.add_row(t("cli_land_used"), num(al["land_used_ha"], 1))
        tb.add_row(t("cli_median_move"), num(al["median_distance_km"], 1))
        console.print(tb)
        _print_report(report, w, top=5)


def _said(text: str) -> None:
    err_console.print(text, highlight=False, markup=False)


def _parse_scenario_weights(text: str, lang: str | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, sep, value = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            fail(CLI("cli.scenario_weights_item", text=text, part=part), lang=lang)
    return out


def _joint(ds: PreparedDataset, ctx, weights, cons, sp, priority, scenario_weights, candidates, output, cap, time_limit, as_json,
           mip_gap=0.005, progress: Steps | None = None, w: Words | None = None) -> None:
    import warnings

    from parks.suitability import SuitabilityError
    from parks.suitability.joint import joint_plan
    from parks.suitability.scenarios import ScenarioWarning


    w = Words(w.lang if w else "zh", ds)
    sw = _parse_scenario_weights(scenario_weights, w.lang) if scenario_weights else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            plan = joint_plan(ctx, ds.enterprises, priority=priority, scenario_weights=sw, weights=weights,
                              constraints=cons, params=sp, candidates=candidates, cap=cap, time_limit=time_limit,
                              mip_rel_gap=mip_gap, progress=progress.callback(_step_words(w)) if progress else None)
        _print_warnings(caught, w)
    except SuitabilityError as exc:
        fail(exc, lang=w.lang)

    if progress:
        progress.step(w.t("cli_step_report"))
    report = _report(ds, plan, w)
    if output is not None:
        if progress:
            progress.step(w.t("cli_step_write", path=output))
        table_ = plan.assignments
        names = ds.enterprises[["enterprise_id", "name"]].astype({"enterprise_id": str}) if "name" in ds.enterprises else None
        if names is not None:
            table_ = table_.merge(names, on="enterprise_id", how="left")
        geometry = None
        if output.suffix.lower() == ".gpkg":
            geo = ds.enterprises.assign(enterprise_id=ds.enterprises["enterprise_id"].astype(str)).set_index("enterprise_id").geometry
            geometry = geo.reindex(table_["enterprise_id"]).to_crs(4326).to_numpy()
        _write_outputs(table_, output, geometry, w, w.t("cli_wrote_joint", rows=num(len(table_)), path=output),
                       plan.parks, ds.parks, report)
    doc = plan.summary()
    doc["output"] = str(output) if output else None
    if report is not None:
        doc["report"] = {"summary": report.to_dict()["summary"]}
    if progress:
        progress.finish()
    if as_json:
        print_json(doc)
        return
    t = w.t
    order = " > ".join(w.scenario(x) for x in doc["order"])
    if doc["scenario_weights"]:
        order = w.sep().join(f"{w.scenario(k)} {num(v, 1)}" for k, v in doc["scenario_weights"].items())
    console.print(t("cli_joint_head", mode=t(f"cli_mode_{doc['mode']}"), order=order,
                    status=w.alloc_status(doc["status"]), gap=pct(doc["mip_gap"], 2)), highlight=False, markup=False)
    tb = table(t("cli_scenarios_title"), [(t("cli_scenario"), "left"), (t("enterprises"), "right"),
                                          (t("cli_assigned"), "right"), (t("land_ha"), "right"),
                                          (t("cli_median_move"), "right"), (t("allocation_status"), "left")])
    for s, v in doc["scenarios"].items():
        tb.add_row(w.scenario(s), num(v["enterprises"]), num(v["assigned"]), num(v["land_ha"], 1),
                   num(v["median_distance_km"], 1), w.alloc_status(v["allocation_status"]))
    console.print(tb)
    rows = [(s, k, n) for s, v in doc["scenarios"].items() for k, n in v["unassigned"].items()]
    if rows:
        tb = table(t("cli_unassigned_title"), [(t("cli_scenario"), "left"), (t("reasons"), "left"),
                                               (t("enterprises"), "right")])
        for s, k, n in rows:
            tb.add_row(w.scenario(s), w.unplaced(k), num(n))
        console.print(tb)
    console.print(t("cli_joint_land", land=num(doc["land_used_ha"], 1), over=num(doc["parks_over_free_land"])),
                  highlight=False, markup=False)
    _print_report(report, w, top=5)
