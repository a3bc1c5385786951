import numpy as np
import pytest
from scipy.stats import qmc

from discovery import ConfigurationError
from simulators.snar import (
    SNAR_BOUNDS,
    snar_concentrations,
    snar_measure,
    snar_outcomes,
    snar_outcomes_array,
)

LOW = np.array([low for low, _ in SNAR_BOUNDS.values()])
HIGH = np.array([high for _, high in SNAR_BOUNDS.values()])
PRODUCT_MOLAR_MASS = 210.21  # g/mol of the ortho product 3
CONDITIONS = np.array(
    [
        [0.5, 1.0, 0.1, 30.0],
        [1.0, 2.0, 0.2, 90.0],
        [2.0, 5.0, 0.5, 120.0],
        [2.0, 1.0, 0.5, 120.0],
    ]
)


@pytest.fixture(scope="module")
def sobol_scan():
    X = qmc.scale(qmc.Sobol(4, seed=0).random_base2(10), LOW, HIGH)
    return X, snar_outcomes_array(X)


def test_the_bounds_keep_the_names_other_code_uses():
    assert SNAR_BOUNDS == {
        "tau": (0.5, 2.0),
        "equiv": (1.0, 5.0),
        "conc": (0.1, 0.5),
        "temperature": (30.0, 120.0),
    }


def test_aromatic_rings_and_pyrrolidine_units_are_conserved_along_the_reactor():
    profile = snar_concentrations(CONDITIONS, positions=np.linspace(0, 1, 11))
    c1, c2, c3, c4, c5 = np.moveaxis(profile, -1, 0)
    conc, equiv = CONDITIONS[:, 2], CONDITIONS[:, 1]
    np.testing.assert_allclose(c1 + c3 + c4 + c5, np.broadcast_to(conc, c1.shape), rtol=1e-8)
    np.testing.assert_allclose(
        c2 + c3 + c4 + 2 * c5, np.broadcast_to(equiv * conc, c1.shape), rtol=1e-8
    )
    assert profile.min() >= 0
    # 1 is only used up and 5 only made (to the solver's accuracy once 1 is gone).
    assert np.all(np.diff(c1, axis=0) < 1e-10) and np.all(np.diff(c5, axis=0) > -1e-10)


def test_zero_residence_time_makes_no_product():
    inlet = snar_concentrations([[0.0, 2.0, 0.3, 120.0]])[-1, 0]
    np.testing.assert_array_equal(inlet, [0.3, 0.6, 0.0, 0.0, 0.0])


def test_a_short_reactor_makes_3_at_the_initial_rate_of_the_first_step():
    # At 90 °C, k(1 -> 3) = 57.9e-2 L mol^-1 s^-1 = 34.74 L mol^-1 min^-1 (Hone et al.), so
    # as tau -> 0 the outlet holds k c1 c2 tau of 3 and STY -> 60 M3 k c1 c2.
    tau, equiv, conc = 1e-6, 2.0, 0.3
    outlet = snar_concentrations([[tau, equiv, conc, 90.0]])[-1, 0]
    initial_rate = 34.74 * conc * equiv * conc
    assert outlet[2] / tau == pytest.approx(initial_rate, rel=1e-4)
    sty = snar_outcomes_array([[tau, equiv, conc, 90.0]])[0, 0]
    assert sty == pytest.approx(60 * PRODUCT_MOLAR_MASS * initial_rate, rel=1e-4)


def test_a_hotter_reactor_converts_more_of_the_substrate():
    temperatures = np.linspace(30.0, 120.0, 10)
    X = np.column_stack([np.full(10, 1.0), np.full(10, 2.0), np.full(10, 0.2), temperatures])
    conversion = 1 - snar_concentrations(X)[-1, :, 0] / 0.2
    assert np.all(np.diff(conversion) > 0)
    assert 0 < conversion[0] < conversion[-1] < 1


def test_outcomes_inside_the_bounds_are_positive_and_physically_bounded(sobol_scan):
    X, outcomes = sobol_scan
    sty, e_factor = outcomes.T
    tau, conc = X[:, 0], X[:, 2]
    assert np.all(sty > 0) and np.all(e_factor > 0)
    # No more 3 than full conversion of 1 into it; no less waste than the ethanol.
    assert np.all(sty <= 60 * PRODUCT_MOLAR_MASS * conc / tau)
    assert np.all(e_factor >= 789.0 / (PRODUCT_MOLAR_MASS * conc))
    assert e_factor.max() < 1e3  # Summit's cap for "no product" never binds inside the bounds


def test_the_best_space_time_yield_on_a_sobol_scan_is_in_the_reported_range(sobol_scan):
    # Schweidtmann et al. 2018 report space-time yields up to about 1.2e4 kg m^-3 h^-1; full
    # conversion of 0.5 M of 1 into 3 in 0.5 min would give 60 * 210.21 * 0.5 / 0.5 = 12613.
    best = sobol_scan[1][:, 0].max()
    assert 9e3 < best < 60 * PRODUCT_MOLAR_MASS


def test_the_vectorised_outcomes_match_one_condition_at_a_time():
    outcomes = snar_outcomes_array(CONDITIONS)
    for x, (sty, e_factor) in zip(CONDITIONS, outcomes, strict=True):
        single = snar_outcomes(*x)
        assert single["sty"] == pytest.approx(sty, rel=1e-7)
        assert single["e_factor"] == pytest.approx(e_factor, rel=1e-7)


def test_matches_summits_snar_benchmark_at_the_reference_temperature():
    # Reference from Summit's SnarBenchmark._integrate_equations (sustainable-processes/summit,
    # commit 1de682d), its equations transcribed and run with solve_ivp(rtol=1e-10,
    # atol=1e-12): sty 2191.4485, e_factor 22.132479; with Summit's default tolerances
    # 2191.35 and 22.1335. At 90 °C its 273.71 K offset cancels, so the two models agree.
    outcome = snar_measure({"tau": 1.0, "equiv": 2.0, "conc": 0.2, "temperature": 90.0})
    assert outcome["sty"] == pytest.approx(2191.4485, rel=1e-6)
    assert outcome["e_factor"] == pytest.approx(22.132479, rel=1e-6)


VALID = {"tau": 1.0, "equiv": 2.0, "conc": 0.2, "temperature": 90.0}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("tau", None, "'tau' missing"),
        ("equiv", 0.5, r"'equiv' = 0.5 outside its bounds \[1.0, 5.0\]"),
        ("conc", float("nan"), "'conc' = nan outside"),
        ("temperature", 150.0, "'temperature' = 150.0 outside"),
        ("temperature", "hot", "'temperature' = 'hot' is not a number"),
    ],
)
def test_bad_parameters_are_refused_by_name(name, value, message):
    parameters = {**VALID, name: value}
    if value is None:
        del parameters[name]
    with pytest.raises(ConfigurationError, match=message) as caught:
        snar_measure(parameters)
    assert isinstance(caught.value, ValueError)
