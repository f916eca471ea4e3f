"""``POST /suitability`` (and ``/suitability/sensitivity``, ``/suitability/batch``): where should an
enterprise go. The JSON is :meth:`parks.suitability.SuitabilityResult.to_dict`, the same document
``parkplan suitability --json`` prints. Analyst role or higher (enterprise figures).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from geodata.schema import POLLUTION_CLASSES, PROTECTED_KINDS, SECTOR_IDS

from ..app import suitability_context
from ..deps import AnalystUser
from ..problems import BadRequest, NotFound

router = APIRouter(tags=["suitability"])

Finite = Annotated[float, Field(allow_inf_nan=False)]
EnterpriseIdStr = Annotated[str, Field(min_length=1, max_length=64)]


class Profile(BaseModel):
    """An enterprise that is not (yet) in the dataset."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    sector: Literal[SECTOR_IDS]  # type: ignore[valid-type]
    land_ha: float = Field(ge=0, le=1e6)
    employees: int = Field(ge=0, le=10_000_000)
    pollution_class: Literal[POLLUTION_CLASSES]  # type: ignore[valid-type]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    name: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=200)
    size: Literal["above", "below"] | None = None
    catalogue_level: Literal["encouraged", "restricted", "eliminate"] | None = None


class ConstraintsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    land_margin: float | None = Field(None, ge=0, le=10)
    protected_buffer_m: float | None = Field(None, ge=0, le=100_000)
    protected_kinds: list[Literal[PROTECTED_KINDS]] | None = None  # type: ignore[valid-type]
    max_distance_km: float | None = Field(None, gt=0, le=10_000)
    less_developed_only: bool | None = None
    exclude_current_park: bool | None = None

    def mapping(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enterprise_id: EnterpriseIdStr | None = None
    profile: Profile | None = None
    weights: dict[str, Finite] | None = Field(None, description="criterion id -> weight (normalised to sum 1)")
    constraints: ConstraintsIn | None = None

    @model_validator(mode="after")
    def _one_target(self):
        if (self.enterprise_id is None) == (self.profile is None):
            raise ValueError("give exactly one of enterprise_id (an enterprise in the dataset) or profile")
        return self

    def target(self):
        return self.enterprise_id if self.enterprise_id is not None else self.profile.model_dump(exclude_none=True)

    def constraint_mapping(self) -> dict[str, Any] | None:
        return self.constraints.mapping() if self.constraints else None


class SuitabilityIn(_Target):
    top: int | None = Field(None, ge=1, le=10_000, description="keep the best `top` parks (excluded stay complete)")


class SensitivityIn(_Target):
    n: int = Field(1000, ge=1, description="weight draws (at most the server's limit, default 5000)")
    concentration: float = Field(50.0, gt=0, le=1e6)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enterprise_ids: list[EnterpriseIdStr] = Field(min_length=1, description="at most the server's batch limit")
    weights: dict[str, Finite] | None = None
    constraints: ConstraintsIn | None = None
    top: int = Field(3, ge=1, le=50)

    def constraint_mapping(self) -> dict[str, Any] | None:
        return self.constraints.mapping() if self.constraints else None


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if obj is pd.NA or obj is None:
        return None
    return obj


def _records(frame: pd.DataFrame) -> list[dict]:
    return [_plain(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


@router.post("/suitability", summary="Rank the parks for one enterprise (by id or profile)")
def suitability(request: Request, body: SuitabilityIn, _user: AnalystUser) -> dict[str, Any]:
    from parks.suitability import score_enterprise

    ctx = suitability_context(request.app)
    res = score_enterprise(ctx, body.target(), body.weights, body.constraint_mapping(), top=body.top)
    return res.to_dict()


@router.post("/suitability/sensitivity", summary="How stable is the ranking under weight perturbation")
def sensitivity(request: Request, body: SensitivityIn, _user: AnalystUser) -> dict[str, Any]:
    from parks.suitability.sensitivity import weight_sensitivity
    from parks.suitability.weights import normalise_weights

    limit = request.app.state.settings.max_draws
    if body.n > limit:
        raise BadRequest(f"n={body.n} is above the limit of {limit} draws (setting PARKPLAN_MAX_DRAWS)")
    ctx = suitability_context(request.app)
    table = weight_sensitivity(ctx, body.target(), body.weights, body.constraint_mapping(), n=body.n,
                               concentration=body.concentration, seed=body.seed)
    return {"enterprise": body.enterprise_id if body.enterprise_id is not None else body.profile.model_dump(),
            "weights": normalise_weights(body.weights), "n": body.n, "concentration": body.concentration,
            "seed": body.seed, "parks": _records(table)}


@router.post("/suitability/batch", summary="Score many enterprises at once (best `top` parks each)")
def batch(request: Request, body: BatchIn, _user: AnalystUser) -> dict[str, Any]:
    from parks.suitability.batch import score_batch

    limit = request.app.state.settings.max_batch
    ids = list(dict.fromkeys(body.enterprise_ids))
    if len(ids) > limit:
        raise BadRequest(f"{len(ids)} enterprises is above the batch limit of {limit} (setting PARKPLAN_MAX_BATCH)")
    ents = request.app.state.dataset.enterprises
    frame = ents[ents["enterprise_id"].astype(str).isin(ids)]
    missing = sorted(set(ids) - set(frame["enterprise_id"].astype(str)))
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise NotFound(f"enterprise(s) not found: {', '.join(missing[:10])}{more}")
    ctx = suitability_context(request.app)
    res = score_batch(ctx, frame, body.weights, body.constraint_mapping(), top=body.top)
    return {"weights": _plain(res.weights), "constraints": _plain(res.constraints), "top": _records(res.top),
            "summary": _records(res.summary)}
