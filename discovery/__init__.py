"""discovery: closed-loop discovery campaigns for materials and chemistry.

Learn from every experiment run so far, choose the next one, dispatch it to an
oracle (a simulation, a dataset emulator, a lab robot), record the result, repeat.
"""

from discovery.acquisition import (
    Acquisition,
    expected_improvement,
    greedy,
    log_expected_improvement,
    maximum_uncertainty,
    probability_of_improvement,
    resolve_acquisition,
    thompson_sampling,
    upper_confidence_bound,
)
from discovery.array_pool import ArrayPool
from discovery.campaign import Campaign
from discovery.config import CampaignConfig
from discovery.constraints import Exclusion, LinearConstraint
from discovery.exceptions import (
    CampaignFileError,
    ConfigurationError,
    DiscoveryError,
    NotFittedError,
    PoolError,
    StoreError,
)
from discovery.history import CampaignResult
from discovery.objectives import Objective, Objectives, OutcomeConstraint
from discovery.oracles import AseOracle, FunctionOracle, LookupOracle, Oracle, Status
from discovery.parameters import Categorical, Integer, Real
from discovery.prediction import Prediction
from discovery.search_space import Space
from discovery.selection import (
    FarthestPointDesign,
    KMeansDesign,
    KMeansDiversified,
    RandomDesign,
    Selector,
    TopK,
)
from discovery.space import Candidate, CandidatePool
from discovery.store import CampaignStore
from discovery.surrogates import GaussianProcessSurrogate, RandomForestSurrogate, Surrogate

__version__ = "0.1.0"

__all__ = [
    "Acquisition",
    "ArrayPool",
    "AseOracle",
    "Campaign",
    "CampaignConfig",
    "CampaignFileError",
    "CampaignResult",
    "CampaignStore",
    "Candidate",
    "CandidatePool",
    "Categorical",
    "ConfigurationError",
    "DiscoveryError",
    "Exclusion",
    "FarthestPointDesign",
    "FunctionOracle",
    "GaussianProcessSurrogate",
    "Integer",
    "KMeansDesign",
    "KMeansDiversified",
    "LinearConstraint",
    "LookupOracle",
    "NotFittedError",
    "Objective",
    "Objectives",
    "Oracle",
    "OutcomeConstraint",
    "PoolError",
    "Prediction",
    "RandomDesign",
    "RandomForestSurrogate",
    "Real",
    "Selector",
    "Space",
    "Status",
    "StoreError",
    "Surrogate",
    "TopK",
    "__version__",
    "expected_improvement",
    "greedy",
    "log_expected_improvement",
    "maximum_uncertainty",
    "probability_of_improvement",
    "resolve_acquisition",
    "thompson_sampling",
    "upper_confidence_bound",
]
