"""Relocation suitability: where should an enterprise move, and where should a group of them go.

Pure functions over GeoDataFrames (see ``docs/suitability.md`` for every formula and default):

* :func:`build_context` / :func:`context_from_dataset`: the park-level inputs, computed once;
* :func:`score_enterprise`: ranked and excluded parks for one enterprise (by id or profile);
* :func:`score_batch`: many enterprises x all parks, vectorised;
* :func:`select_scenario`: the plan's urban-core, scattered and coastal-transfer selections;
* :func:`weight_sensitivity`: Monte-Carlo stability of the ranking under weight perturbation;
* :func:`allocate`: capacity-constrained assignment (MILP, HiGHS; always a feasible allocation and its gap);
* :func:`plan_scenario` / :func:`joint_plan`: a scenario under its rules, and the scenarios together
  against one pool of free land;
* :func:`propose_transfers`: transfer candidates with a frozen snapshot.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

# The names below are imported from their submodule on first use (PEP 562), so that a caller who scores one
# enterprise (`parkplan suitability --enterprise`) does not pay for the batch kernel's numba or the allocation's
# MILP solver. The type checker sees the imports themselves; _EXPORTS must list the same names (a test checks).
if TYPE_CHECKING:
    from .constraints import REASON_CODES, Constraints
    from .context import (EnterpriseProfile, SuitabilityContext, SuitabilityError, UnknownEnterpriseError,
                          build_context, context_from_dataset)
    from .criteria import CRITERIA, CriteriaParams
    from .model import SuitabilityResult, score_enterprise
    from .batch import BatchResult, score_batch
    from .scenarios import SCENARIOS, ScenarioParams, ScenarioWarning, scenario_constraints, scenario_preference, select_scenario
    from .sensitivity import weight_sensitivity
    from .allocation import AllocationResult, allocate, allocate_batch
    from .joint import JointPlan, ScenarioPlan, joint_plan, plan_scenario
    from .transfers import TransferCandidate, TransferProposal, propose_transfers
    from .weights import (DEFAULT_WEIGHTS, InconsistentJudgementsError, ahp, ahp_from_mapping, ahp_weights, group_ahp,
                          normalise_weights, weights_from_mapping)

#: submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "constraints": ("REASON_CODES", "Constraints"),
    "context": ("EnterpriseProfile", "SuitabilityContext", "SuitabilityError", "UnknownEnterpriseError", "build_context",
                "context_from_dataset"),
    "criteria": ("CRITERIA", "CriteriaParams"),
    "model": ("SuitabilityResult", "score_enterprise"),
    "batch": ("BatchResult", "score_batch"),
    "scenarios": ("SCENARIOS", "ScenarioParams", "ScenarioWarning", "scenario_constraints", "scenario_preference",
                  "select_scenario"),
    "sensitivity": ("weight_sensitivity",),
    "allocation": ("AllocationResult", "allocate", "allocate_batch"),
    "joint": ("JointPlan", "ScenarioPlan", "joint_plan", "plan_scenario"),
    "transfers": ("TransferCandidate", "TransferProposal", "propose_transfers"),
    "weights": ("DEFAULT_WEIGHTS", "InconsistentJudgementsError", "ahp", "ahp_from_mapping", "ahp_weights", "group_ahp",
                "normalise_weights", "weights_from_mapping"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "CRITERIA",
    "REASON_CODES",
    "DEFAULT_WEIGHTS",
    "Constraints",
    "CriteriaParams",
    "EnterpriseProfile",
    "SuitabilityContext",
    "SuitabilityError",
    "UnknownEnterpriseError",
    "InconsistentJudgementsError",
    "SuitabilityResult",
    "build_context",
    "context_from_dataset",
    "score_enterprise",
    "normalise_weights",
    "weights_from_mapping",
    "ahp",
    "ahp_weights",
    "ahp_from_mapping",
    "group_ahp",
    "BatchResult",
    "score_batch",
    "SCENARIOS",
    "select_scenario",
    "scenario_constraints",
    "scenario_preference",
    "ScenarioParams",
    "ScenarioWarning",
    "JointPlan",
    "ScenarioPlan",
    "plan_scenario",
    "joint_plan",
    "weight_sensitivity",
    "AllocationResult",
    "allocate",
    "allocate_batch",
    "TransferCandidate",
    "TransferProposal",
    "propose_transfers",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f".{name}", __name__)  # a submodule, as `parks.suitability.batch` was
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
