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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.table import Table

from parks.suitability.plan_report import report_for_plan

from ._common import DataOption, JsonOption, console, err_console, fail, load, print_json
from ..jobs.suitability import append_plan_sheets, scenario_table, write_parks_table, write_table

if TYPE_CHECKING:
    from parks.joins import PreparedDataset

__all__ = ["register", "suitability", "read_mapping_file"]


def register(app: typer.Typer) -> None:
    app.command("suitability")(suitability)


def read_mapping_file(path: Path, what: str) -> dict:
    """A JSON or TOML file as a mapping (by suffix; unknown suffix: JSON, then TOML)."""
    import tomllib

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"cannot read {what} file {path}: {exc.strerror or exc}")
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
            fail(f"{what} file {path} must hold a mapping (criterion id -> weight), got {type(doc).__name__}")
        return doc
    fail(f"{what} file {path} is not valid {' or '.join(n for n, _ in parsers)} ({'; '.join(errors)})")
    return {}  # pragma: no cover


def _weights(weights_file: Path | None, ahp_file: Path | None) -> dict | None:
    from parks.suitability import SuitabilityError, ahp_from_mapping, weights_from_mapping

    if weights_file and ahp_file:
        fail("give either --weights or --ahp, not both")
    try:
        if weights_file:
            return weights_from_mapping(read_mapping_file(weights_file, "weights"))
        if ahp_file:
            weights, result = ahp_from_mapping(read_mapping_file(ahp_file, "AHP"))
            offices = getattr(result, "offices", None)
            combined = getattr(result, "combined", result)
            err_console.print(f"AHP: consistency ratio CR = {combined.cr:.3f} (< 0.1, accepted)")
            for name, r in (offices or {}).items():
                err_console.print(f"  office {name}: CR = {r.cr:.3f}{'' if r.consistent else '  (inconsistent on its own)'}")
            return weights
    except SuitabilityError as exc:
        fail(str(exc))
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


def _write(table, output: Path, geometry) -> None:
    try:
        write_table(table, output, geometry=geometry)
    except ValueError as exc:
        fail(str(exc))


def _print_result(doc: dict) -> None:
    from parks.suitability.criteria import CRITERIA, CRITERIA_LABELS_ZH

    e = doc["enterprise"]
    console.print(f"[bold]{e.get('enterprise_id') or 'profile'}[/bold] {e.get('name') or ''}  sector {e['sector']}, "
                  f"{e['land_ha']:.2f} ha, {e['employees']} employees, pollution {e['pollution_class']}, "
                  f"catalogue {e.get('catalogue_level') or '-'}")
    if doc["flag"]:
        console.print(f"[red]flag: {doc['flag']}[/red] (catalogue: eliminate; not relocated)")
    t = Table(title=f"Ranked parks ({len(doc['ranked'])} of {doc['ranked_total']} feasible)", title_justify="left",
              header_style="bold")
    for col in ("rank", "park", "name", "county", "score", "strongest criteria (contribution)"):
        t.add_column(col, justify="right" if col in ("rank", "score") else "left")
    for r in doc["ranked"]:
        best = sorted(CRITERIA, key=lambda c: -r["criteria"][c]["contribution"])[:3]
        t.add_row(str(r["rank"]), r["park_id"], r.get("name") or "", r.get("county_code") or "", f"{r['score']:.3f}",
                  ", ".join(f"{CRITERIA_LABELS_ZH[c]} {r['criteria'][c]['contribution']:.2f}" for c in best))
    console.print(t)
    if doc["excluded"]:
        counts: dict[str, int] = {}
        for x in doc["excluded"]:
            for reason in x["reasons"]:
                counts[reason["code"]] = counts.get(reason["code"], 0) + 1
        console.print(f"Excluded parks: {len(doc['excluded'])} ("
                      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) + ")")


def _profile(sector, land_ha, employees, pollution_class, lon, lat) -> dict | None:
    given = {"sector": sector, "land_ha": land_ha, "employees": employees, "pollution_class": pollution_class,
             "lon": lon, "lat": lat}
    if all(v is None for v in given.values()):
        return None
    missing = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is None and k != "pollution_class"]
    if missing:
        fail(f"a profile needs {', '.join(missing)} (and optionally --pollution-class, default light)")
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
) -> None:
    """Rank the parks for one enterprise (by id or profile), or score a scenario's enterprises in batch."""
    from parks.suitability import Constraints, SuitabilityError, context_from_dataset, score_enterprise

    profile = _profile(sector, land_ha, employees, pollution_class, lon, lat)
    targets = sum(x is not None for x in (enterprise, scenario, profile))
    if targets != 1:
        fail("give exactly one of --enterprise ID, --scenario NAME or a profile (--sector, --land-ha, --employees, --lon, --lat)")
    weights = _weights(weights_file, ahp_file)
    try:
        cons = Constraints.from_mapping(_constraints(land_margin, protected_buffer_m, max_distance_km,
                                                     less_developed_only, include_current_park))
    except SuitabilityError as exc:
        fail(str(exc))
    from parks.joins import prepare

    ds = prepare(load(data))
    ctx = context_from_dataset(ds)
    if scenario is not None:
        sp = _scenario_params(city_band_km, county_band_km, key_bonus)
        if scenario == "all":
            _joint(ds, ctx, weights, cons, sp, priority, scenario_weights, candidates, output, cap, time_limit, as_json,
                   mip_gap)
        else:
            if priority or scenario_weights:
                fail("--priority and --scenario-weights are for --scenario all")
            _scenario(ds, ctx, scenario, weights, cons, top, output, allocate, cap, time_limit, as_json, sp, candidates,
                      mip_gap)
        return
    target = enterprise if enterprise is not None else profile
    try:
        result = score_enterprise(ctx, target, weights, cons, top=top)
        doc = result.to_dict()
        sens = None
        if sensitivity:
            from parks.suitability.sensitivity import weight_sensitivity

            sens = weight_sensitivity(ctx, target, weights, cons, n=sensitivity, seed=seed)
    except LookupError as exc:
        fail(str(exc).strip("'\""))
    except SuitabilityError as exc:
        fail(str(exc))
    if output is not None:
        _write_single(doc, output)
    if as_json:
        if sens is not None:
            doc = dict(doc, sensitivity=json.loads(sens.to_json(orient="records")))
        print_json(doc)
        return
    _print_result(doc)
    if sens is not None:
        t = Table(title=f"Weight sensitivity ({sensitivity} Dirichlet draws, seed {seed})", title_justify="left",
                  header_style="bold")
        for col in ("park", "score", "P(rank 1)", "P(top 3)", "mean rank"):
            t.add_column(col, justify="left" if col == "park" else "right")
        for r in sens.head(top).itertuples():
            t.add_row(r.park_id, f"{r.score:.3f}", f"{r.p_rank1:.0%}", f"{r.p_top3:.0%}", f"{r.mean_rank:.1f}")
        console.print(t)
        pn = sens.attrs.get("p_nearest_wins")
        if pn is not None:
            near = sens[sens["nearest"]].iloc[0]
            console.print(f"The nearest feasible park ({near['park_id']}, {near['distance_km']:.1f} km) ranks first "
                          f"in {pn:.0%} of the draws.")


def _write_single(doc: dict, output: Path) -> None:
    import pandas as pd

    from parks.suitability.criteria import CRITERIA

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
        fail("GeoPackage output is for --scenario (enterprise points); use .csv or .xlsx for one enterprise")
    write_table(frame, output)
    err_console.print(f"wrote {output}")


def _scenario_params(city_band_km, county_band_km, key_bonus):
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
        fail(str(exc))


class _Steps:
    """A rich progress bar whose description is the current step (selecting, scoring, allocating)."""

    def __init__(self, transient: bool):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err_console, transient=transient)
        self.task = None

    def __enter__(self):
        self.bar.__enter__()
        self.task = self.bar.add_task("starting", total=1)
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def __call__(self, step: str, done: int, total: int) -> None:
        self.bar.update(self.task, description=step, completed=done, total=max(total, 1))


def _report(ds: PreparedDataset, plan):
    """The planner's report on ``plan`` (:func:`parks.suitability.plan_report.report_for_plan`); None, with a
    warning, if it cannot be made (the report is an extra: never lose the plan for it)."""
    try:
        return report_for_plan(ds, plan)
    except Exception as exc:  # noqa: BLE001 - shown to the user, the plan is still written
        err_console.print(f"[yellow]plan report not written: {type(exc).__name__}: {exc}[/yellow]")
        return None


def _print_report(report) -> None:
    if report is None:
        return
    s = report.summary
    t = Table(title="Plan report (parks.suitability.plan_report)", title_justify="left", header_style="bold")
    cols = [c for c in ("scenario", "enterprises", "assigned", "median_km", "p90_km", "own_county_share",
                        "own_city_share") if c in s.columns]
    for c in cols:
        t.add_column(c, justify="left" if c == "scenario" else "right")
    for r in s[cols].itertuples(index=False):
        t.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in r])
    console.print(t)
    if len(report.flags):
        console.print(f"flags: {len(report.flags)} (see the report's sheet)")


def _scenario(ds: PreparedDataset, ctx, scenario, weights, cons, top, output, allocate, cap, time_limit, as_json, sp=None,
              candidates=10, mip_gap=0.005) -> None:
    from parks.suitability import SuitabilityError
    from parks.suitability.joint import plan_scenario
    from parks.suitability.scenarios import SCENARIOS, ScenarioWarning

    if scenario not in SCENARIOS:
        fail(f"unknown scenario {scenario!r}; accepted: {', '.join(SCENARIOS)}, all")
    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught, _Steps(as_json) as steps:
            warnings.simplefilter("always", ScenarioWarning)
            plan = plan_scenario(ctx, ds.enterprises, scenario, weights, cons, params=sp,
                                 candidates=max(top, candidates if allocate else top), cap=cap,
                                 time_limit=time_limit if allocate else 0.0, mip_rel_gap=mip_gap, progress=steps)
        for w in caught:
            if issubclass(w.category, ScenarioWarning):
                err_console.print(f"[yellow]warning: {w.message}[/yellow]")
    except SuitabilityError as exc:
        fail(str(exc))
    selected, batch = plan.selected, plan.batch
    alloc = plan.allocation if allocate else None
    if len(batch.top) and top < int(batch.top["rank"].max()):
        from dataclasses import replace

        batch = replace(batch, top=batch.top[batch.top["rank"] <= top].reset_index(drop=True))
    table = scenario_table(selected, batch, alloc)
    report = _report(ds, plan) if alloc is not None else None
    if output is not None:
        geometry = None
        if output.suffix.lower() == ".gpkg":
            geo = selected.assign(enterprise_id=selected["enterprise_id"].astype(str)).set_index("enterprise_id").geometry
            geometry = geo.reindex(table["enterprise_id"]).to_crs(4326).to_numpy()
        _write(table, output, geometry)
        err_console.print(f"wrote {len(table)} rows to {output}")
        if alloc is not None:
            where = write_parks_table(alloc.parks, output, ds.parks)
            err_console.print(f"wrote the parks' land use to {where}")
            where = append_plan_sheets(report, output)
            if where:
                err_console.print(f"wrote the plan report to {where}")
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
    if as_json:
        print_json(doc)
        return
    console.print(f"[bold]{scenario}[/bold]: {doc['selected']} enterprises selected, {doc['with_feasible_park']} with a "
                  f"feasible park, {doc['flagged_closure_or_upgrade']} flagged for closure or upgrading")
    t = Table(title="Most frequent best park", title_justify="left", header_style="bold")
    t.add_column("park")
    t.add_column("enterprises", justify="right")
    for k, v in doc["best_parks"].items():
        t.add_row(k, str(v))
    console.print(t)
    if alloc is not None:
        al = doc["allocation"]
        console.print(f"Allocation ({al['status']}, gap {_gap(al['mip_gap'])}, {al['seconds']} s): "
                      f"{al['assigned']} assigned, unassigned {al['unassigned']}, {al['land_used_ha']:.1f} ha used, "
                      f"median move {_km(al['median_distance_km'])}")
        _print_report(report)


def _gap(g) -> str:
    return "-" if g is None else f"{g:.2%}"


def _km(v) -> str:
    return "-" if v is None else f"{v:.1f} km"


def _parse_scenario_weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, sep, value = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            fail(f"--scenario-weights {text!r}: {part!r} is not scenario:weight (e.g. urban-core:2,scattered:1)")
    return out


def _joint(ds: PreparedDataset, ctx, weights, cons, sp, priority, scenario_weights, candidates, output, cap, time_limit, as_json,
           mip_gap=0.005) -> None:
    import warnings

    from parks.suitability import SuitabilityError
    from parks.suitability.joint import joint_plan
    from parks.suitability.scenarios import ScenarioWarning

    sw = _parse_scenario_weights(scenario_weights) if scenario_weights else None
    try:
        with warnings.catch_warnings(record=True) as caught, _Steps(as_json) as steps:
            warnings.simplefilter("always", ScenarioWarning)
            plan = joint_plan(ctx, ds.enterprises, priority=priority, scenario_weights=sw, weights=weights,
                              constraints=cons, params=sp, candidates=candidates, cap=cap, time_limit=time_limit,
                              mip_rel_gap=mip_gap, progress=steps)
        for w in caught:
            if issubclass(w.category, ScenarioWarning):
                err_console.print(f"[yellow]warning: {w.message}[/yellow]")
    except SuitabilityError as exc:
        fail(str(exc))

    report = _report(ds, plan)
    if output is not None:
        table = plan.assignments
        names = ds.enterprises[["enterprise_id", "name"]].astype({"enterprise_id": str}) if "name" in ds.enterprises else None
        if names is not None:
            table = table.merge(names, on="enterprise_id", how="left")
        geometry = None
        if output.suffix.lower() == ".gpkg":
            geo = ds.enterprises.assign(enterprise_id=ds.enterprises["enterprise_id"].astype(str)).set_index("enterprise_id").geometry
            geometry = geo.reindex(table["enterprise_id"]).to_crs(4326).to_numpy()
        _write(table, output, geometry)
        err_console.print(f"wrote the joint plan ({len(table)} enterprises) to {output}")
        err_console.print(f"wrote the parks' land by scenario to {write_parks_table(plan.parks, output, ds.parks)}")
        where = append_plan_sheets(report, output)
        if where:
            err_console.print(f"wrote the plan report to {where}")
    doc = plan.summary()
    doc["output"] = str(output) if output else None
    if report is not None:
        doc["report"] = {"summary": report.to_dict()["summary"]}
    if as_json:
        print_json(doc)
        return
    console.print(f"[bold]joint plan[/bold] ({doc['mode']}: {' > '.join(doc['order'])}"
                  + (f", weights {doc['scenario_weights']}" if doc["scenario_weights"] else "")
                  + f"): status {doc['status']}, gap {_gap(doc['mip_gap'])}")
    t = Table(title="Scenarios", title_justify="left", header_style="bold")
    for c in ("scenario", "enterprises", "assigned", "land (ha)", "median move", "status"):
        t.add_column(c, justify="left" if c in ("scenario", "status") else "right", no_wrap=True)
    for s, v in doc["scenarios"].items():
        t.add_row(s, str(v["enterprises"]), str(v["assigned"]), f"{v['land_ha']:.1f}", _km(v["median_distance_km"]),
                  str(v["allocation_status"]))
    console.print(t)
    for s, v in doc["scenarios"].items():
        if v["unassigned"]:
            console.print(f"  {s} unassigned: " + ", ".join(f"{k} {n}" for k, n in v["unassigned"].items()))
    console.print(f"{doc['land_used_ha']:.1f} ha promised; parks over their free land: {doc['parks_over_free_land']}")
    _print_report(report)
