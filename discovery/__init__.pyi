"""The public API, for type checkers and readers; `__init__.py` loads each name on first use."""

from .acquisition import (
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
from .array_pool import ArrayPool
from .campaign import Campaign
from .config import CampaignConfig
from .constraints import Exclusion, LinearConstraint
from .exceptions import (
    CampaignFileError,
    ConfigurationError,
    DiscoveryError,
    NotFittedError,
    PoolError,
    StoreError,
)
from .history import CampaignResult
from .objectives import Objective, Objectives, OutcomeConstraint
from .oracles import AseOracle, FunctionOracle, LookupOracle, Oracle, Status
from .parameters import Categorical, Integer, Real
from .prediction import Prediction
from .search_space import Space
from .selection import (
    FarthestPointDesign,
    KMeansDesign,
    KMeansDiversified,
    RandomDesign,
    Selector,
    TopK,
)
from .space import Candidate, CandidatePool
from .store import CampaignStore
from .surrogates import GaussianProcessSurrogate, RandomForestSurrogate, Surrogate

__version__: str

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
