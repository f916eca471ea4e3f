"""Transfer candidates for the review database, from the suitability model's proposal
(:func:`parks.suitability.transfers.propose_transfers`: coastal-transfer scenario + allocation, each
candidate with a frozen snapshot of its scores). This module only reshapes them into the rows that
:func:`api.reviews.add_candidates` stores.
"""

from __future__ import annotations

from typing import Any

__all__ = ["propose"]


def propose(ds, *, progress: bool = False) -> list[dict[str, Any]]:
    """Candidate rows (``candidate_id``, ``enterprise_id``, ``origin_county_code``,
    ``destination_county_code``, ``park_id``, ``scenario``, ``score``, ``snapshot``) for a prepared dataset."""
    try:
        from parks.suitability.transfers import propose_transfers
    except ImportError as exc:  # pragma: no cover - until the suitability package ships it
        raise ImportError("parks.suitability.transfers.propose_transfers is not available") from exc
    result = propose_transfers(ds)
    rows = result.to_rows() if hasattr(result, "to_rows") else list(result)
    return [dict(r) for r in rows]
