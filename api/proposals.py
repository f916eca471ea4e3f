"""Transfer candidates for the review database, from the suitability model's proposal
(:func:`parks.suitability.transfers.propose_transfers_from_dataset`: the coastal-transfer scenario,
capacity-constrained allocation, each candidate with a frozen snapshot of what it was proposed with).

This module reshapes the proposal's rows into what :func:`api.reviews.add_candidates` stores, and
adds to each snapshot the parks that were excluded for that enterprise, with their reasons, frozen
at proposal time (the review sheet lists them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parks.joins import PreparedDataset
from parks.suitability import context_from_dataset, score_enterprise
from parks.suitability.transfers import propose_transfers

__all__ = ["propose", "with_exclusions"]

EXCLUDED_KEEP = 20  # excluded parks kept per snapshot (the review sheet shows them; the total is kept too)


def with_exclusions(ctx, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with ``snapshot["excluded"]``: the parks excluded for its enterprise under its constraints."""
    snap = dict(row.get("snapshot") or {})
    if "excluded" not in snap:
        res = score_enterprise(ctx, row["enterprise_id"], snap.get("weights"), snap.get("constraints"), top=1)
        excluded = res.to_dict()["excluded"]
        snap["excluded"] = excluded[:EXCLUDED_KEEP]
        snap["excluded_total"] = len(excluded)
    context = snap.get("context")
    if isinstance(context, dict) and context.get("dataset"):  # a server path: keep only the file name
        snap["context"] = {**context, "dataset": Path(str(context["dataset"])).name}
    for key in ("explanation", "explanation_zh", "rank"):
        if key in row and key not in snap:
            snap[key] = row[key]
    return {**row, "snapshot": snap}


def propose(ds: PreparedDataset, *, progress: bool = False) -> list[dict[str, Any]]:
    """Candidate rows (``candidate_id``, ``enterprise_id``, ``origin_county_code``,
    ``destination_county_code``, ``park_id``, ``scenario``, ``score``, ``snapshot``) for a prepared dataset."""
    ctx = context_from_dataset(ds)
    proposal = propose_transfers(ctx, ds.enterprises)
    rows = []
    for r in proposal.to_rows():
        r = with_exclusions(ctx, r)
        r["origin_county_code"] = r.get("origin_county_code") or ""
        rows.append(r)
    return rows
