"""Objectives and outcome constraints: what they refuse, and what they make of measured
outputs (utilities, desirability, feasibility, Pareto fronts, hypervolumes)."""

import json

import numpy as np
import pytest

from discovery import ConfigurationError, Objective, OutcomeConstraint
from discovery.objectives import Objectives


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
    objectives = (Objective("y", "max", bounds=(0, 1)), Objective("gap", "match", 1.4, (0, 3)))
    constraints = (OutcomeConstraint("impurity", "<=", 0.05),)
    weighted = (objectives[0], Objective("gap", "match", 1.4, (0, 3), weight=2))
    for spec in (
        Objectives(weighted, constraints, mode="desirability"),
        Objectives(objectives, constraints, mode="pareto", reference_point=(0.0, 1.0)),
    ):
        assert Objectives.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
