"""How stable is a ranking? Monte-Carlo perturbation of the weights.

Weight vectors are drawn from a Dirichlet distribution centred on the chosen weights,
:math:`W \\sim \\mathrm{Dir}(\\kappa \\, w)` over the criteria with :math:`w_c > 0` (criteria with
zero weight stay zero), so :math:`E[W] = w` and larger :math:`\\kappa` (``concentration``) means
smaller perturbations (:math:`\\mathrm{Var}(W_c) = w_c (1 - w_c) / (\\kappa + 1)`). For each draw the
feasible parks are re-ranked (same tie-break as the model); the result is each park's probability
of ranking first and of ranking in the top three, and its mean rank. Each park also carries its
``distance_km`` and a ``nearest`` flag (the nearest feasible park): the nearest park's ``p_rank1`` is
the share of draws in which distance wins (also in ``frame.attrs["p_nearest_wins"]``), the check that
no weight draw lets a far cheap park beat a near one as a rule.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .constraints import Constraints
from .context import SuitabilityContext, SuitabilityError
from .criteria import CRITERIA
from .model import SCORE_DECIMALS, resolve_enterprise, score_arrays
from .weights import normalise_weights

__all__ = ["dirichlet_weights", "weight_sensitivity"]


def dirichlet_weights(weights: Mapping[str, float], n: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """``(n, 9)`` weight vectors drawn around ``weights`` (columns in :data:`CRITERIA` order)."""
    w = np.array([weights[c] for c in CRITERIA], dtype=float)
    active = w > 0
    out = np.zeros((n, len(CRITERIA)))
    out[:, active] = rng.dirichlet(concentration * w[active], size=n)
    return out


def weight_sensitivity(
    ctx: SuitabilityContext,
    enterprise,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints | Mapping[str, Any] | None = None,
    *,
    n: int = 1000,
    concentration: float = 50.0,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Each feasible park's ``p_rank1``, ``p_top3`` and ``mean_rank`` under Dirichlet weight perturbation.

    Parameters
    ----------
    n : number of weight draws.
    concentration : Dirichlet concentration :math:`\\kappa` (> 0).
    seed : seed or ``numpy.random.Generator``; the same seed gives the same table.

    Returns
    -------
    DataFrame sorted by ``p_rank1``, ``p_top3`` (descending) then ``park_id``, with ``score`` (at
    the chosen weights).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise SuitabilityError("sensitivity.n", value=n)
    if not concentration > 0:
        raise SuitabilityError("sensitivity.concentration", value=concentration)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    w = normalise_weights(weights)
    cons = constraints if isinstance(constraints, Constraints) else Constraints.from_mapping(constraints)
    ent, _ = resolve_enterprise(ctx, enterprise)
    dist, _, ok, crit, scores = score_arrays(ctx, ent, w, cons)
    feas = np.flatnonzero(ok[0])
    cols = ["park_id", "score", "p_rank1", "p_top3", "mean_rank", "distance_km", "nearest"]
    if not len(feas):
        empty = pd.DataFrame({c: pd.Series(dtype=object if c == "park_id" else bool if c == "nearest" else float)
                              for c in cols})
        empty.attrs["p_nearest_wins"] = None
        return empty
    s = np.column_stack([np.broadcast_to(crit[c][1], ok.shape)[0, feas] for c in CRITERIA])  # (f, 9)
    draws = dirichlet_weights(w, int(n), float(concentration), rng)  # (n, 9)
    sc = np.round(draws @ s.T, SCORE_DECIMALS)  # (n, f); parks in park_id order
    order = np.argsort(-sc, axis=1, kind="stable")  # ties -> lower park index first
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, len(feas) + 1)[None, :].repeat(len(draws), 0), axis=1)
    out = pd.DataFrame({
        "park_id": ctx.park_ids[feas],
        "score": scores[0, feas],
        "p_rank1": (ranks == 1).mean(axis=0),
        "p_top3": (ranks <= 3).mean(axis=0),
        "mean_rank": ranks.mean(axis=0),
        "distance_km": dist[0, feas],
    })
    out["nearest"] = np.arange(len(feas)) == int(np.argmin(dist[0, feas]))  # ties: the lower park_id
    out = out.sort_values(["p_rank1", "p_top3", "park_id"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    out.attrs["p_nearest_wins"] = float(out.loc[out["nearest"], "p_rank1"].iloc[0])
    return out
