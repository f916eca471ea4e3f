"""A computed scenario plan (:class:`api.routes.scenarios.ComputedPlan`) as bytes and back, so that one worker
process's plan is read by the others (:mod:`api.shared_compute`): a JSON manifest (the plan's status, order, time,
the report's scenarios and parameters, each table's columns and dtypes) and each report table as an Arrow IPC
stream. Data only: no pickle, nothing in the bytes names code to run (Arrow's pandas metadata is ignored; the
dtypes are set back from the manifest's names, which must be plain ones). Only tables with a default
``RangeIndex`` are encoded (the report's are); anything else raises :class:`TypeError` and the plan is not shared.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pandas as pd
import pyarrow as pa

from parks.suitability.plan_report import TABLES, PlanReport, ReportParams

__all__ = ["encode_plan", "decode_plan"]

MAGIC = b"parkplan-plan-1\n"
#: the dtypes a table's column may have (by name): set back with ``astype``
DTYPES = frozenset({"object", "str", "string", "int64", "Int64", "float64", "Float64", "bool", "boolean", "int32",
                    "float32"})


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def encode_plan(plan: Any) -> bytes:
    """``plan`` (a ComputedPlan) as bytes: manifest, then one Arrow IPC stream per report table."""
    report: PlanReport = plan.report
    tables, blobs = {}, []
    for name in TABLES:
        frame = getattr(report, name)
        if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
            raise TypeError(f"plan table {name}: only a default RangeIndex is encoded")
        dtypes = {str(c): str(t) for c, t in frame.dtypes.items()}
        bad = {c: t for c, t in dtypes.items() if t not in DTYPES}
        if bad or any(not isinstance(c, str) for c in frame.columns):
            raise TypeError(f"plan table {name}: columns {bad or list(frame.columns)} are not encoded")
        tables[name] = {"columns": list(frame.columns), "dtypes": dtypes}
        blobs.append(_frame_bytes(frame))
    manifest = {"scenario": plan.scenario, "status": plan.status, "mip_gap": plan.mip_gap, "order": list(plan.order),
                "seconds": plan.seconds, "scenarios": list(report.scenarios), "params": report.params.to_dict(),
                "tables": tables}
    head = json.dumps(manifest, ensure_ascii=False, allow_nan=False).encode()
    out = [MAGIC, struct.pack(">Q", len(head)), head]
    for blob in blobs:
        out += [struct.pack(">Q", len(blob)), blob]
    return b"".join(out)


def _read_frame(blob: bytes, spec: dict) -> pd.DataFrame:
    table = pa.ipc.open_stream(blob).read_all()
    frame = table.to_pandas(ignore_metadata=True)
    if list(frame.columns) != spec["columns"]:
        raise ValueError(f"columns {list(frame.columns)} != {spec['columns']}")
    for column, dtype in spec["dtypes"].items():
        if dtype not in DTYPES:
            raise ValueError(f"column {column}: dtype {dtype!r} not accepted")
        if str(frame[column].dtype) != dtype:
            frame[column] = frame[column].astype(dtype)
    return frame


def decode_plan(data: bytes) -> Any:
    """The ComputedPlan that :func:`encode_plan` wrote; :class:`ValueError` for bytes it did not write."""
    from .routes.scenarios import ComputedPlan

    if not data.startswith(MAGIC):
        raise ValueError("not an encoded plan")
    pos = len(MAGIC)

    def chunk() -> bytes:
        nonlocal pos
        (n,) = struct.unpack_from(">Q", data, pos)
        pos += 8
        if pos + n > len(data):
            raise ValueError("truncated plan")
        piece = data[pos:pos + n]
        pos += n
        return piece

    manifest = json.loads(chunk())
    frames = {name: _read_frame(chunk(), manifest["tables"][name]) for name in TABLES}
    p = dict(manifest["params"])
    p["bands_km"] = tuple(p["bands_km"])
    p["expected_shares"] = tuple(tuple(x) for x in p["expected_shares"])
    report = PlanReport(scenarios=tuple(manifest["scenarios"]), params=ReportParams(**p), **frames)
    return ComputedPlan(manifest["scenario"], report, manifest["status"], manifest["mip_gap"],
                        tuple(manifest["order"]), manifest["seconds"])
