"""``score_enterprise`` reads what every result of a context repeats (park ids, names, county codes, the params
document, the enterprise rows by id) from an index built once per context (issue 15). The plain path it replaced
is kept as ``_score_enterprise_plain`` (the row through ``ctx.enterprises.loc``, the result assembled park by park
from numpy scalars); here the two are compared over many enterprises, profiles, constraints, weights and ``top``.

The comparison is on ``repr``: it tells a numpy scalar from a Python float (``np.float64(1.0)`` vs ``1.0``), an int
from a float, and writes NaN as ``nan`` (which ``==`` would call unequal to itself), so the results must be the
same values of the same types, not only equal documents."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from geodata.schema import PROTECTED_KINDS
from parks.suitability import Constraints, UnknownEnterpriseError, context_from_dataset, score_enterprise
from parks.suitability.context import _population_row, _population_row_plain, context_index, population_arrays
from parks.suitability.criteria import CRITERIA
from parks.suitability.model import _score_enterprise_plain
from parks.suitability.scenarios import scenario_constraints


@pytest.fixture(scope="module")
def ctx(dataset):
    return context_from_dataset(dataset)


def _same(ctx, target, weights=None, constraints=None, top=None):
    fast = score_enterprise(ctx, target, weights, constraints, top=top)
    plain = _score_enterprise_plain(ctx, target, weights, constraints, top=top)
    assert repr(fast) == repr(plain), (target, weights, constraints, top)
    assert fast.to_dict() == plain.to_dict()
    return fast


def _weights(rng):
    w = rng.dirichlet(np.ones(len(CRITERIA)))
    w[rng.random(len(CRITERIA)) < 0.3] = 0.0  # some criteria weigh nothing
    if not w.any():
        w[0] = 1.0
    return dict(zip(CRITERIA, w.tolist()))


def _constraints(rng, ctx):
    options = [None, {}, scenario_constraints("urban-core"), scenario_constraints("scattered"),
               {"max_distance_km": float(rng.uniform(10, 120))}, {"less_developed_only": True},
               {"exclude_current_park": True, "land_margin": float(rng.uniform(0.5, 3))},
               {"protected_buffer_m": float(rng.uniform(0, 5000))},
               # one kind of protected area: the message names the nearest of the kinds asked for (kept per
               # context under the kinds and the buffer, so a request with other kinds must not get these)
               {"protected_kinds": [str(rng.choice(PROTECTED_KINDS))], "protected_buffer_m": float(rng.uniform(0, 3000))},
               {"exclude_urban_core_parks": True, "own_county_or_km": 20.0}]
    c = options[int(rng.integers(len(options)))]
    return c if c is None or isinstance(c, Constraints) else dict(c)


def test_fast_equals_plain_over_enterprises_weights_constraints_and_top(ctx):
    rng = np.random.default_rng(15)
    ids = ctx.enterprises.index.astype(str).tolist()
    picked = rng.choice(ids, size=400, replace=False).tolist()
    ranked_some = excluded_some = 0
    for k, eid in enumerate(picked):
        weights = None if k % 3 == 0 else _weights(rng)
        top = [None, 1, 5, 17, 10_000][k % 5]
        res = _same(ctx, eid, weights, _constraints(rng, ctx), top)
        ranked_some += bool(res.ranked)
        excluded_some += bool(res.excluded)
    # the comparison covered results with ranked parks and with excluded parks
    assert ranked_some > 100 and excluded_some > 100, (ranked_some, excluded_some)


def test_fast_equals_plain_for_profiles(ctx):
    rng = np.random.default_rng(7)
    from geodata.schema import POLLUTION_CLASSES, SECTOR_IDS

    lon, lat = ctx.enterprises["lon"].to_numpy(), ctx.enterprises["lat"].to_numpy()
    for k in range(60):
        i = int(rng.integers(len(lon)))
        profile = {"sector": str(rng.choice(SECTOR_IDS)), "land_ha": float(rng.lognormal(0, 1)),
                   "employees": int(rng.integers(0, 900)), "pollution_class": str(rng.choice(POLLUTION_CLASSES)),
                   "lon": float(lon[i]), "lat": float(lat[i])}
        if k % 4 == 0:
            profile["catalogue_level"] = ["encouraged", "restricted", "eliminate"][k % 3]
        if k % 5 == 0:
            profile["product"] = f"产品{k}"
        _same(ctx, profile, None if k % 2 else _weights(rng), _constraints(rng, ctx), [None, 3][k % 2])


def test_rows_by_id_are_pandas_rows(ctx):
    """Every enterprise's row from the per-column arrays is the row ``ctx.enterprises.loc`` gives (values and
    types; missing values ``None``), including enterprises outside any park (a missing ``park_id``)."""
    ids = ctx.enterprises.index.tolist()
    missing_park = 0
    for key in ids:
        row = _population_row(ctx, key)
        assert repr(row) == repr(_population_row_plain(ctx, key))
        missing_park += row.get("park_id") is None
    assert missing_park > 0


def test_unknown_id_is_the_same_error(ctx):
    for f in (score_enterprise, _score_enterprise_plain):
        with pytest.raises(UnknownEnterpriseError) as err:
            f(ctx, "NO-SUCH-ID")
        assert "NO-SUCH-ID" in str(err.value)


def test_synthetic_world_numpy_columns(W):
    """A context built from in-memory frames (numpy-backed columns, no arrow): the same results."""
    wctx, _ = W.world_context(seed=3, n_enterprises=120)
    rng = np.random.default_rng(3)
    for k, eid in enumerate(wctx.enterprises.index.tolist()):
        _same(wctx, eid, None if k % 2 else _weights(rng), _constraints(rng, wctx), [None, 4][k % 2])


def test_the_index_belongs_to_one_context_object(ctx):
    """``dataclasses.replace`` makes a new context with its own index: a changed population is read, not the
    first context's rows; a repeated id falls back to pandas' lookup (as before, an error or a frame)."""
    eid = ctx.enterprises.index[0]
    first = score_enterprise(ctx, eid, top=3)
    changed = ctx.enterprises.copy()
    changed.loc[eid, "land_ha"] = float(changed.loc[eid, "land_ha"]) * 50 + 10
    other = dataclasses.replace(ctx, enterprises=changed)
    assert context_index(other) is not context_index(ctx)
    assert _population_row(other, eid)["land_ha"] == changed.loc[eid, "land_ha"]
    assert repr(score_enterprise(other, eid, top=3)) == repr(_score_enterprise_plain(other, eid, top=3))
    assert score_enterprise(other, eid, top=3).enterprise["land_ha"] != first.enterprise["land_ha"]
    twice = dataclasses.replace(ctx, enterprises=pd.concat([ctx.enterprises.iloc[:3], ctx.enterprises.iloc[:1]]))
    assert context_index(twice).enterprise_positions() is None
    assert repr(_population_row(twice, ctx.enterprises.index[1])) == \
        repr(_population_row_plain(twice, ctx.enterprises.index[1]))


def test_a_result_is_its_own(ctx):
    """The params document and park lists are shared per context: a caller changing one result's ``params``
    (its list too) or its records changes neither the next result nor the context's index."""
    eid = ctx.enterprises.index[5]
    a = score_enterprise(ctx, eid, top=2)
    a.params["transport_weights"].append(99.0)
    a.params["distance_half_km"] = -1
    b = score_enterprise(ctx, eid, top=2)
    assert b.params == ctx.params.to_dict()
    assert repr(b) == repr(_score_enterprise_plain(ctx, eid, top=2))


def test_population_arrays_by_id(ctx):
    eid = ctx.enterprises.index[11]
    ent, r = population_arrays(ctx, eid)
    ent_plain, r_plain = population_arrays(ctx, eid, _row=_population_row_plain)
    assert repr(r) == repr(r_plain)
    for name in ent.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(ent, name), getattr(ent_plain, name))
