"""keepcab's discrete-event simulator: how many customers each dispatch policy loses.

`simulator.run` and `simulator.compare` are the notebook API (see
`simulator.api`); `keepcab simulate` is the command line (`simulator.cli`).
"""

from simulator.api import compare, run
from simulator.results import Comparison, PolicyResult
from simulator.runner import PolicySpec
from simulator.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Comparison", "PolicyResult", "PolicySpec", "Scenario", "ScenarioError", "compare",
           "load_scenario", "run"]
