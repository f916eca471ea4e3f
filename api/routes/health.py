"""``GET /health``: is the service up, is its dataset loaded, does its database answer (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    dataset: dict
    database: str


@router.get("/health", response_model=Health, summary="Service health (no authentication)")
def health(request: Request) -> Health:
    ds = request.app.state.dataset
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("select 1"))
        db = "ok"
    except Exception:  # noqa: BLE001 - reported, not raised: health must answer
        db = "unavailable"
    return Health(status="ok" if db == "ok" else "degraded",
                  dataset={"parks": int(len(ds.parks)), "enterprises": int(len(ds.enterprises)),
                           "counties": int(len(ds.counties))},
                  database=db)
