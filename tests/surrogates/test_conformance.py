import pytest

from discovery.surrogates import GaussianProcessSurrogate, RandomForestSurrogate
from tests.surrogates.conformance import CHECKS

SURROGATES = {
    "gp": lambda: GaussianProcessSurrogate(seed=0, device="cpu"),
    "forest": lambda: RandomForestSurrogate(seed=0),
    "extra_trees": lambda: RandomForestSurrogate(seed=0, extra_trees=True),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", SURROGATES)
def test_surrogate_conformance(name, check):
    check(SURROGATES[name])
