"""Transfer candidates: coastal-transfer enterprises allocated to parks in less-developed counties.

For every enterprise of the ``coastal-transfer`` scenario (labour-intensive, in a developed coastal
county) the model ranks the parks of less-developed counties (:func:`score_batch`), the batch is
allocated under each park's free land and optional cap (:func:`allocate`), and each assigned
enterprise becomes a :class:`TransferCandidate`: enterprise, origin county, proposed park, score,
an explanation (English and Chinese), the second-best alternative, and a frozen ``snapshot`` of the
inputs, weights, constraints and criterion scores it was proposed with. The snapshot is plain JSON
so that a reviewer judges what was proposed even after the data change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from geodata.crs import cached_transformer
from geodata.jsonable import jsonable
from geodata.schema import POLLUTION_CLASSES, SECTOR_IDS

from ..joins import PreparedDataset
from .allocation import AllocationResult, allocate_batch
from .batch import score_batch
from .constraints import Constraints
from .context import SuitabilityContext, enterprise_arrays
from .criteria import CRITERIA, CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH, criterion_matrices
from .model import MODEL_VERSION
from .scenarios import ScenarioParams, scenario_constraints, scenario_preference, select_scenario
from .weights import normalise_weights

__all__ = ["TransferCandidate", "TransferProposal", "candidate_id", "propose_transfers", "propose_transfers_from_dataset"]

PARK_SNAPSHOT_FIELDS = ("park_id", "name", "kind", "county_code", "less_developed", "ecologically_sensitive",
                        "leading_sectors", "free_land_ha", "land_price", "max_pollution_class", "expressway_km",
                        "rail_km", "port_km")


@dataclass(frozen=True)
class TransferCandidate:
    candidate_id: str
    enterprise_id: str
    enterprise_name: str | None
    origin_county_code: str | None
    destination_county_code: str
    park_id: str
    park_name: str | None
    score: float
    rank: int  # the proposed park's rank among the enterprise's feasible parks
    explanation: str
    explanation_zh: str
    alternative: dict[str, Any] | None
    snapshot: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict:
        d = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        d["scenario"] = "coastal-transfer"
        return d


@dataclass(frozen=True)
class TransferProposal:
    candidates: list[TransferCandidate]
    allocation: AllocationResult
    selected: int  # enterprises in the scenario

    def to_dict(self) -> dict:
        return {"selected": self.selected, "proposed": len(self.candidates),
                "allocation": {"status": self.allocation.status, "objective": self.allocation.objective,
                               "mip_gap": self.allocation.mip_gap,
                               "unassigned": self.allocation.assignments.loc[
                                   self.allocation.assignments["status"] == "unassigned", "reason"].value_counts().to_dict()},
                "candidates": [c.to_dict() for c in self.candidates]}

    def to_rows(self) -> list[dict]:
        """One JSON-serialisable dict per candidate (what the review database stores)."""
        return [c.to_dict() for c in self.candidates]


def _park_snapshot(ctx: SuitabilityContext, j: int) -> dict:
    row = ctx.parks.iloc[j]
    return {k: jsonable(row[k]) if k in row.index else None for k in PARK_SNAPSHOT_FIELDS}


def _criteria_snapshot(crit, i: int, j: int, w: Mapping[str, float]) -> dict:
    out = {}
    for c in CRITERIA:
        value = float(np.broadcast_to(crit[c][0], crit["distance"][0].shape)[i, j])
        score = float(np.broadcast_to(crit[c][1], crit["distance"][0].shape)[i, j])
        out[c] = {"value": jsonable(value), "score": score, "weight": w[c], "contribution": w[c] * score}
    return out


def _explain(ent_name, park_name, park_id, county, ld, score, rank, n_feasible, crit, alt, best_other):
    strongest = sorted(CRITERIA, key=lambda c: -crit[c]["contribution"])[:3]
    en = (f"Proposed {park_name or park_id} ({park_id}) in county {county}"
          f"{' (less-developed)' if ld else ''}: score {score:.3f}, rank {rank} of {n_feasible} feasible parks. "
          f"Strongest criteria: " + ", ".join(f"{CRITERIA_LABELS_EN[c]} {crit[c]['score']:.2f}" for c in strongest) + ".")
    zh = (f"建议迁入{park_name or park_id}（{park_id}，{county}{'，欠发达县' if ld else ''}），综合得分{score:.3f}，"
          f"在{n_feasible}个可选园区中排第{rank}；主要优势：" + "、".join(CRITERIA_LABELS_ZH[c] for c in strongest) + "。")
    if rank > 1 and best_other is not None:
        en += f" Its first choice {best_other} was taken by other enterprises (land or cap)."
        zh += f"首选园区{best_other}的用地或名额已分配给其他企业。"
    if alt is not None:
        en += f" Alternative: {alt['park_id']} (score {alt['score']:.3f})."
        zh += f"备选园区：{alt['park_id']}（得分{alt['score']:.3f}）。"
    else:
        en += " No alternative park is feasible."
        zh += "无其他可选园区。"
    return en, zh


def propose_transfers(
    ctx,
    enterprises: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping | None = None,
    *,
    candidates_per_enterprise: int = 10,
    cap: int | Mapping[str, int] | None = None,
    scenario_params: ScenarioParams | None = None,
    time_limit: float = 30.0,
    progress=None,
) -> TransferProposal:
    """Transfer candidates for the coastal-transfer scenario (see the module docstring).

    ``ctx`` is a :class:`SuitabilityContext`, or a prepared :class:`geodata.dataset.Dataset` (its
    context is then built with :func:`context_from_dataset` and ``enterprises`` defaults to its
    enterprise layer). ``enterprises`` is the prepared enterprise layer (``parks.joins.prepare``);
    the scenario selection and its "less-developed counties only" constraint are applied here.
    """
    if not isinstance(ctx, SuitabilityContext):
        from .context import context_from_dataset

        ds = ctx
        ctx = context_from_dataset(ds)
        enterprises = ds.enterprises if enterprises is None else enterprises
    if enterprises is None:
        raise TypeError("propose_transfers needs the prepared enterprises (or pass a Dataset instead of a context)")
    w = normalise_weights(weights)
    base = constraints if isinstance(constraints, Constraints) else Constraints.from_mapping(constraints)
    sp = scenario_params or ScenarioParams()
    cons = scenario_constraints("coastal-transfer", base, sp)
    sel = select_scenario("coastal-transfer", enterprises, params=sp)
    # candidates in the scenario's order: counties hosting the sector or its chain, mountain-sea partners
    batch = score_batch(ctx, sel, w, cons, top=max(2, candidates_per_enterprise), progress=progress,
                        preference=lambda c, e: scenario_preference("coastal-transfer", c, e, sp))
    alloc = allocate_batch(ctx, batch, cap=cap, time_limit=time_limit)
    assigned = alloc.assignments[alloc.assignments["status"] == "assigned"]
    if not len(assigned):
        return TransferProposal([], alloc, len(sel))
    sel_by_id = sel.assign(_eid=sel["enterprise_id"].astype(str)).set_index("_eid")
    sub = sel_by_id.loc[assigned["enterprise_id"].to_numpy()].reset_index(drop=True)
    sub = sub.set_geometry("geometry") if hasattr(sub, "set_geometry") else sub
    ent = enterprise_arrays(ctx, sub)
    crit = criterion_matrices(ctx, ent, ctx.distances_km(ent))
    top = batch.top.set_index(["enterprise_id", "rank"]).sort_index()
    n_feas = batch.summary.set_index("enterprise_id")["n_feasible"]
    to_wgs = cached_transformer(ctx.metric_crs, 4326)
    pos = {p: i for i, p in enumerate(ctx.park_ids)}
    out = []
    for i, (eid, park_id, score) in enumerate(zip(assigned["enterprise_id"], assigned["park_id"], assigned["score"])):
        j = pos[park_id]
        ranks = top.loc[eid]
        rank = int(ranks.index[ranks["park_id"] == park_id][0])
        others = ranks[ranks["park_id"] != park_id]
        alt = None
        if len(others):
            r0 = others.iloc[0]
            alt = {"park_id": str(r0["park_id"]), "score": float(r0["score"]), "county_code": str(r0["county_code"]),
                   "rank": int(others.index[0])}
        best_other = str(ranks.iloc[0]["park_id"]) if rank > 1 else None
        row = sub.iloc[i]
        lon, lat = to_wgs.transform(ent.x[i], ent.y[i])
        park = _park_snapshot(ctx, j)
        cs = _criteria_snapshot(crit, i, j, w)
        snapshot = {
            "model_version": MODEL_VERSION,
            "scenario": "coastal-transfer",
            "enterprise": {"enterprise_id": str(eid), "name": jsonable(row.get("name")), "sector": SECTOR_IDS[ent.sector_idx[i]],
                           "land_ha": float(ent.land_ha[i]), "employees": int(ent.employees[i]),
                           "pollution_class": POLLUTION_CLASSES[ent.pollution_rank[i]],
                           "catalogue_level": ent.level[i], "county_code": jsonable(ent.county_code[i]),
                           "lon": float(lon), "lat": float(lat)},
            "park": park,
            "criteria": cs,
            "alternative": alt,
            "weights": w,
            "constraints": cons.to_dict(),
            "params": ctx.params.to_dict(),
            "context": {k: jsonable(v) for k, v in ctx.metadata.items()},
        }
        snapshot = json.loads(json.dumps(snapshot, ensure_ascii=False, default=jsonable))
        en, zh = _explain(row.get("name"), park["name"], park_id, park["county_code"], bool(park["less_developed"]),
                          float(score), rank, int(n_feas[eid]), cs, alt, best_other)
        out.append(TransferCandidate(
            candidate_id=candidate_id(snapshot), enterprise_id=str(eid), enterprise_name=jsonable(row.get("name")),
            origin_county_code=jsonable(ent.county_code[i]), destination_county_code=str(ctx.county_code[j]),
            park_id=str(park_id), park_name=park["name"], score=float(score), rank=rank,
            explanation=en, explanation_zh=zh, alternative=alt, snapshot=snapshot))
    return TransferProposal(out, alloc, len(sel))


#: significant digits of the floats of a snapshot when its id is computed: a last-bit difference (another
#: CPU, another BLAS, another summation order) must not change an id; a real change of a value does.
ID_SIGNIFICANT_DIGITS = 9


def _rounded(value: Any, digits: int = ID_SIGNIFICANT_DIGITS) -> Any:
    """``value`` (plain JSON) with every float rounded to ``digits`` significant digits (-0.0 as 0.0)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") + 0.0 if np.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def candidate_id(snapshot: Mapping[str, Any]) -> str:
    """``TC-`` and 16 hex digits of the SHA-256 of the snapshot (plain JSON) with its floats rounded to
    :data:`ID_SIGNIFICANT_DIGITS` significant digits, keys sorted.

    Ids stored before the rounding hashed the full-precision floats; they stay as they are (a new proposal
    skips an enterprise that has a live candidate: :func:`api.reviews.add_candidates`)."""
    text = json.dumps(_rounded(dict(snapshot)), sort_keys=True, ensure_ascii=False)
    return "TC-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def propose_transfers_from_dataset(ds: PreparedDataset, linkages: pd.DataFrame | None = None, weights=None, constraints=None,
                                   **kwargs) -> TransferProposal:
    """:func:`propose_transfers` on a prepared :class:`geodata.dataset.Dataset` (for ``parkplan transfers propose``);
    ``linkages`` default to the shipped table."""
    from .context import context_from_dataset

    ctx = context_from_dataset(ds, linkages)
    return propose_transfers(ctx, ds.enterprises, weights, constraints, **kwargs)
