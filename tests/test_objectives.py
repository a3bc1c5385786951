"""Objectives and outcome constraints: what they refuse, and what they make of measured
outputs (utilities, desirability, feasibility, Pareto fronts, hypervolumes)."""

import json

import numpy as np
import pandas as pd
import pytest

from discovery import Campaign, CandidatePool, ConfigurationError, Objective, OutcomeConstraint
from discovery.objectives import Objectives

TRADE_OFF = (Objective("sty"), Objective("e_factor", "min"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Objective("y", "up"), "direction must be one of"),
        (lambda: Objective("gap", "match"), "needs a finite target"),
        (lambda: Objective("y", "max", target=1.0), "is for direction 'match'"),
        (lambda: Objective("y", bounds=(2.0, 1.0)), "must have low < high"),
        (lambda: Objective("y", bounds=(0.0, float("nan"))), "two finite numbers"),
        (lambda: Objective("gap", "match", target=3.0, bounds=(0, 2)), "inside the bounds"),
        (lambda: Objective("y", weight=0), "weight must be a number > 0"),
        (lambda: OutcomeConstraint("impurity", "<", 0.05), "operator must be one of"),
        (lambda: OutcomeConstraint("impurity", "<=", "low"), "bound must be a finite number"),
        (lambda: Objectives(()), "at least one Objective"),
        (lambda: Objectives((Objective("y"), Objective("y", "min"))), "duplicated objective"),
        (
            lambda: Objectives((Objective("y"),), (OutcomeConstraint("y", "<=", 1),)),
            "objectives and outcome constraints at once",
        ),
        (
            lambda: Objectives((Objective("a"), Objective("b")), mode="desirability"),
            r"needs bounds=\(low, high\) on every objective",
        ),
        (lambda: Objectives((Objective("a"), Objective("b")), mode="best"), "mode must be"),
        (
            lambda: Objectives((Objective("a"), Objective("b")), reference_point=(0.0,)),
            "reference point has 1 values for 2 objectives",
        ),
    ],
)
def test_bad_objectives_are_refused_with_a_message_naming_the_problem(make, message):
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_utilities_make_larger_better_for_every_direction():
    spec = Objectives(
        (Objective("sty", "max"), Objective("e_factor", "min"), Objective("gap", "match", 1.4))
    )
    Y = np.array([[2.0, 3.0, 1.0], [1.0, 5.0, 1.5]])
    np.testing.assert_allclose(spec.utilities(Y), [[2.0, -3.0, -0.4], [1.0, -5.0, -0.1]])


def test_desirability_is_the_weighted_geometric_mean_of_each_objectives_share():
    spec = Objectives(
        (
            Objective("yield", "max", bounds=(0, 100), weight=2),
            Objective("cost", "min", bounds=(0, 10)),
            Objective("gap", "match", target=1.5, bounds=(0.5, 2.0)),
        ),
        mode="desirability",
    )
    Y = np.array([[50.0, 2.0, 1.0], [100.0, 0.0, 1.5], [120.0, 11.0, 1.5]])
    expected_first = (0.5**2 * 0.8 * 0.5) ** (1 / 4)
    np.testing.assert_allclose(spec.desirability(Y), [expected_first, 1.0, 0.0])


def test_a_measurement_that_breaks_or_lacks_a_constrained_property_is_infeasible():
    spec = Objectives(
        (Objective("sty"), Objective("e_factor", "min")),
        (OutcomeConstraint("impurity", "<=", 0.05), OutcomeConstraint("purity", ">=", 0.9)),
    )
    assert spec.outputs == ("sty", "e_factor", "impurity", "purity")
    Y = np.array(
        [
            [1.0, 1.0, 0.01, 0.95],
            [1.0, 1.0, 0.06, 0.95],
            [1.0, 1.0, 0.01, 0.80],
            [1.0, 1.0, np.nan, 0.95],
        ]
    )
    assert spec.feasible(Y).tolist() == [True, False, False, False]


def test_the_pareto_front_keeps_feasible_non_dominated_measurements_only():
    spec = Objectives((Objective("a"), Objective("b", "min")), (OutcomeConstraint("c", "<=", 1.0),))
    Y = np.array(
        [
            [1.0, 1.0, 0.0],  # front
            [2.0, 2.0, 0.0],  # front
            [0.5, 1.5, 0.0],  # dominated by the first
            [5.0, 0.0, 2.0],  # would dominate all, but is infeasible
            [np.nan, 0.5, 0.0],  # an objective unmeasured
        ]
    )
    assert spec.pareto_mask(Y).tolist() == [True, True, False, False, False]


def test_hypervolume_is_the_area_the_front_dominates_above_the_reference_point():
    spec = Objectives((Objective("a"), Objective("b", "min")), reference_point=(0.0, 4.0))
    Y = np.array([[1.0, 1.0], [2.0, 3.0], [0.5, 2.0]])
    reference = spec.reference_utilities(Y)
    np.testing.assert_allclose(reference, [0.0, -4.0])
    # utilities (1, -1) and (2, -3) above (0, -4): 1 x 3 + 1 x 1
    assert spec.hypervolume(Y, reference) == pytest.approx(4.0)
    np.testing.assert_allclose(spec.hypervolume_history(Y), [3.0, 4.0, 4.0])


def test_reading_a_result_keeps_a_missing_value_and_refuses_a_missing_key():
    spec = Objectives((Objective("a"), Objective("b")), (OutcomeConstraint("c", "<=", 1),))
    row, error = spec.read({"a": 1.0, "b": None, "c": 0.5})
    assert error is None
    assert np.isnan(row[1]) and row[0] == 1.0
    assert "has no 'c'" in spec.read({"a": 1.0, "b": 2.0})[1]
    assert "no value for any objective" in spec.read({"a": None, "b": None, "c": 0})[1]
    assert "not a number" in spec.read({"a": "high", "b": 1, "c": 0})[1]


def test_objectives_round_trip_through_json():
    bounded = (Objective("y", "max", bounds=(0, 1)), Objective("gap", "match", 1.4, (0, 3), 2))
    unbounded = (Objective("y", "max"), Objective("gap", "match", 1.4))
    constraints = (OutcomeConstraint("impurity", "<=", 0.05),)
    for spec in (
        Objectives(bounded, constraints, mode="desirability"),
        Objectives(unbounded, constraints, mode="pareto", reference_point=(0.0, 1.0)),
    ):
        assert Objectives.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_a_front_tied_on_one_objective_reports_a_hypervolume_that_never_falls():
    """Two measurements of the same yield, the second cheaper: the reported hypervolume
    fell from 16 to 5.6e-06, the reference point inferred 1e-8 below the tied yield."""
    spec = Objectives((Objective("yield"), Objective("cost", "min")))
    Y = np.array([[80.0, 20.0], [80.0, 12.0], [60.0, 30.0]])
    reported = [spec.hypervolume_history(Y[: n + 1])[-1] for n in range(len(Y))]
    # the tied yield stands back a tenth of its spread (80, its magnitude), to 72:
    # (80 - 72) x (20.8 - 12), the cost a tenth of its range of 8 past 20
    np.testing.assert_allclose(reported, [16.0, 70.4, 435.6])


def test_one_measurement_on_its_target_is_measured_from_a_point_a_spread_away():
    """A first measurement exactly on a 'match' target (utility 0) was measured from a
    reference point 1e-8 away from it: a hypervolume of about 1e-7."""
    spec = Objectives((Objective("yield"), Objective("gap", "match", target=1.4)))
    Y = np.array([[80.0, 1.4]])
    np.testing.assert_allclose(spec.reference_utilities(Y), [72.0, -0.1])
    assert spec.hypervolume_history(Y)[-1] == pytest.approx(8.0 * 0.1)


def campaign_over_a_small_pool(**options) -> Campaign:
    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    return Campaign(pool, None, surrogate="forest", budget=10, n_initial=3, **options)


@pytest.mark.parametrize(
    ("beside", "named"),
    [
        ({"outcome_constraints": [OutcomeConstraint("impurity", "<=", 0.05)]}, "outcome_con"),
        ({"mode": "desirability"}, "mode"),
        ({"reference_point": [0, 10]}, "reference_point"),
    ],
)
def test_settings_given_beside_an_objectives_are_refused_not_dropped(beside, named):
    """Campaign(objectives=Objectives(...), outcome_constraints=[...]) dropped the
    constraints silently: an impurity of 3.0 counted as feasible and on the front."""
    with pytest.raises(ConfigurationError, match=rf"\['{named}.*beside an Objectives"):
        campaign_over_a_small_pool(objectives=Objectives(TRADE_OFF), **beside)


def test_an_objectives_keeps_its_own_mode_when_the_campaign_names_none():
    bounded = tuple(Objective(o.name, o.direction, bounds=(0, 1)) for o in TRADE_OFF)
    spec = Objectives(bounded, mode="desirability")
    assert campaign_over_a_small_pool(objectives=spec).outcomes == spec


@pytest.mark.parametrize(
    ("mode", "advice"),
    [("pareto", "or set reference_point"), ("desirability", "or set the objective's bounds")],
)
def test_a_constrained_objective_is_refused_with_the_limit_its_mode_takes(mode, advice):
    """Constraining an objective of a Pareto front was refused with the advice to set
    its bounds, which a Pareto front ignores."""
    bounded = tuple(Objective(o.name, o.direction, bounds=(0, 10)) for o in TRADE_OFF)
    objectives = bounded if mode == "desirability" else TRADE_OFF
    impurity = (OutcomeConstraint("sty", ">=", 5),)
    with pytest.raises(ConfigurationError, match=f"at once; .*{advice}"):
        Objectives(objectives, impurity, mode)


@pytest.mark.parametrize("objectives", [TRADE_OFF[:1], TRADE_OFF])
def test_bounds_on_a_pareto_objective_are_refused_saying_where_they_act(objectives):
    """Bounds on an objective of a Pareto front were accepted and ignored: a yield
    below them stayed feasible, on the front, and counted in the hypervolume."""
    bounded = (Objective("sty", bounds=(5, 10)), *objectives[1:])
    with pytest.raises(ConfigurationError, match=r"\['sty'\] act only in mode 'desirability'"):
        Objectives(bounded)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Objective("y", bounds=1.0), r"bounds must be \(low, high\).*got 1.0"),
        (
            lambda: Objectives(TRADE_OFF, reference_point=5.0),
            r"reference point must be 2 numbers, one per objective .*got 5.0",
        ),
        (
            lambda: Objectives(TRADE_OFF, reference_point="ab"),
            r"reference point must be 2 numbers.*got 'ab'",
        ),
    ],
)
def test_a_single_value_where_several_are_due_is_refused_naming_the_setting(make, message):
    """bounds=1.0 or reference_point=5.0 raised a bare TypeError: 'float' object is not
    iterable."""
    with pytest.raises(ConfigurationError, match=message):
        make()


@pytest.mark.parametrize("passed", [True, np.bool_(False)])
def test_a_boolean_result_is_not_read_as_a_number(passed):
    """An oracle's {"passed": True} was recorded as 1.0 and met a constraint passed >= 1,
    where telling the same result was refused."""
    spec = Objectives(TRADE_OFF, (OutcomeConstraint("passed", ">=", 1),))
    error = spec.read({"sty": 1.0, "e_factor": 2.0, "passed": passed})[1]
    assert error == f"result 'passed' is {passed}, a boolean, not a number"


def test_a_result_too_large_for_a_float_fails_that_experiment():
    """A lab answered {"y1": 10**400}: float() raised OverflowError, which crashed the
    campaign, and every resume polled the same answer and crashed again."""
    objectives = Objectives((Objective("y1"), Objective("y2")))
    _, error = objectives.read({"y1": 10**400, "y2": 1.0})
    assert error is not None and "y1" in error and "not a number" in error


def test_the_hypervolume_history_is_each_prefix_hypervolume():
    """Carried forward past measurements that leave the front as it was (infeasible,
    unmeasured, dominated or repeated), recomputed only when the front changes."""
    rng = np.random.default_rng(0)
    spec = Objectives(
        [Objective("a"), Objective("b", "min"), Objective("c", "match", target=0.5)],
        constraints=[OutcomeConstraint("d", "<=", 0.8)],
    )
    Y = rng.random((120, 4))
    Y[rng.random(120) < 0.1, 1] = np.nan
    Y[60] = Y[40]
    reference = spec._measured_reference(Y)
    expected = [spec.hypervolume(Y[: i + 1], reference) for i in range(Y.shape[0])]
    np.testing.assert_allclose(spec.hypervolume_history(Y), expected, rtol=1e-12, atol=0)
