"""Declared spaces: validation, encoding, JSON, and feasible sampling under constraints."""

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery import (
    Campaign,
    Categorical,
    ConfigurationError,
    Exclusion,
    FunctionOracle,
    Integer,
    LinearConstraint,
    Real,
    Space,
)
from discovery.constraints import EQUALITY_TOLERANCE

SOLVENTS = pd.DataFrame(
    {"dielectric": [36.7, 7.6, 37.5, 80.1], "boiling_point": [153, 66, 82, 100]},
    index=["DMF", "THF", "MeCN", "water"],
)


def reaction_space(**extra):
    return Space(
        [
            Real("temperature", 20, 120),
            Real("time", 1, 600, log=True),
            Integer("equivalents", 1, 5),
            Categorical("solvent", ["DMF", "THF", "MeCN", "water"], descriptors=SOLVENTS),
        ],
        **extra,
    )


# -- bad input: one line naming the field --------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Real("temperature", 120, 20), "'temperature': low (120) must be below high"),
        (lambda: Real("time", 0, 600, log=True), "'time': log=True needs low > 0"),
        (lambda: Integer("n", 1.5, 4), "'n': low must be an integer"),
        (lambda: Categorical("solvent", []), "'solvent': needs at least one category"),
        (lambda: Categorical("solvent", ["DMF", "DMF"]), "'solvent': duplicated categories"),
        (
            lambda: Space([Real("a", 0, 1)], [LinearConstraint({"b": 1}, "<=", 1)]),
            "unknown parameter(s) ['b']",
        ),
        (
            lambda: Space(
                [Real("a", 0, 1), Real("b", 0, 1)], [LinearConstraint({"a": 1, "b": 1}, "==", 3)]
            ),
            "linear constraints are infeasible",
        ),
        (
            lambda: Space([Real("a", 0, 1), Real("a", 0, 2)]),
            "duplicated parameter names ['a']",
        ),
        (
            lambda: Space([Real("t", 1, 10, log=True)], [LinearConstraint({"t": 1}, "<=", 5)]),
            "not a real parameter on a linear scale",
        ),
        (lambda: LinearConstraint({"a": 1}, "<", 1), "operator must be one of"),
        (  # a single constraint, not in a list: a raw TypeError (not iterable) before
            lambda: Space([Real("a", 0, 1)], LinearConstraint({"a": 1}, "<=", 0.5)),
            "constraints must be a list of LinearConstraint or Exclusion, got LinearConstraint",
        ),
        (
            lambda: Space(Real("a", 0, 1)),
            "parameters must be a list of Real, Integer or Categorical, got Real",
        ),
        (
            lambda: Space(
                [Categorical("s", ["x", "y"]), Real("t", 0, 1)],
                [Exclusion({"s": ["z"], "t": (">", 0.5)})],
            ),
            "lists ['z'], not values of 's'",
        ),
        (
            lambda: Space(
                [Real("a", 0, 1), Real("b", 0, 1)], [Exclusion({"a": (">", 0.1), "b": (">", 0.1)})]
            ),
            "may compare at most one",
        ),
        (
            lambda: Categorical("s", ["x", "y"], descriptors=SOLVENTS),
            "descriptors lack the categories ['x', 'y']",
        ),
        (
            lambda: Categorical(
                "s", ["x", "y"], descriptors=pd.DataFrame({"d": [1.0, 1.0]}, index=["x", "y"])
            ),
            "categories ['x', 'y'] have the same descriptors",
        ),
        (  # a second row for 'y' would shift the features of every later category
            lambda: Categorical(
                "s",
                ["x", "y"],
                descriptors=pd.DataFrame({"d": [1.0, 2.0, 3.0]}, index=["x", "y", "y"]),
            ),
            "descriptors list the categories ['y'] more than once",
        ),
        (
            lambda: Categorical(
                "s", ["x", "y"], descriptors=pd.DataFrame({"d": [1.0, np.inf]}, index=["x", "y"])
            ),
            "descriptors must be finite numbers (no NaN or inf), got 'y' in 'd' (inf)",
        ),
    ],
)
def test_bad_space_is_refused_with_a_message_naming_the_field(build, message):
    with pytest.raises(ConfigurationError, match=None) as error:
        build()
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_point_outside_the_space_is_named():
    space = reaction_space()
    good = {"temperature": 50.0, "time": 10.0, "equivalents": 2, "solvent": "THF"}
    assert space.violation(good) is None
    assert "'temperature' = 130" in space.violation(good | {"temperature": 130})
    assert "'equivalents' = 2.5 is not an integer" in space.violation(good | {"equivalents": 2.5})
    assert "'solvent' = 'acetone' is not one of" in space.violation(good | {"solvent": "acetone"})
    assert "parameter 'time' is missing" in space.violation(
        {k: v for k, v in good.items() if k != "time"}
    )


# -- encoding and storage --------------------------------------------------------------


def test_encoding_puts_log_parameters_on_a_log_scale_and_decodes_back():
    space = reaction_space()
    points = [
        {"temperature": 20.0, "time": 1.0, "equivalents": 1, "solvent": "DMF"},
        {"temperature": 120.0, "time": 600.0, "equivalents": 5, "solvent": "water"},
        {"temperature": 70.0, "time": math.sqrt(600.0), "equivalents": 3, "solvent": "THF"},
    ]
    X = space.encode(points)
    assert X.shape == (3, 1 + 1 + 1 + 2)  # two descriptor columns for the solvent
    assert X[2, 1] == pytest.approx(0.5)  # geometric middle of [1, 600]
    assert X.min() >= 0 and X.max() <= 1
    decoded = space.decode(X)
    for point, back in zip(points, decoded, strict=True):
        assert back["solvent"] == point["solvent"] and back["equivalents"] == point["equivalents"]
        assert back["time"] == pytest.approx(point["time"])


def test_one_hot_is_the_default_encoding():
    space = Space([Categorical("solvent", ["DMF", "THF", "MeCN"])])
    assert space.feature_names == ["solvent=DMF", "solvent=THF", "solvent=MeCN"]
    assert space.encode([{"solvent": "THF"}]).tolist() == [[0.0, 1.0, 0.0]]


def test_space_round_trips_through_json_with_descriptors_and_constraints():
    space = reaction_space(
        constraints=[
            LinearConstraint({"temperature": 1}, "<=", 110),
            Exclusion({"solvent": ["water"], "temperature": (">", 100)}),
        ]
    )
    again = Space.from_json(space.to_json())
    assert again == space
    assert again.fingerprint() == space.fingerprint()
    point = {"temperature": 50.0, "time": 3.0, "equivalents": 2, "solvent": "MeCN"}
    assert again.encode([point]).tolist() == space.encode([point]).tolist()


def test_an_exclusion_given_as_a_set_is_the_same_space_in_every_process():
    """{"water", "DMF", "THF"} was stored in the set's order, which changes with each
    process's hash seed: the same script, run again, could not reopen its store ("holds
    a campaign on another space")."""
    script = (
        "from discovery import Categorical, Exclusion, Real, Space\n"
        "space = Space([Real('t', 0, 1), Categorical('s', ['water', 'DMF', 'THF', 'MeCN'])],\n"
        "              [Exclusion({'s': {'water', 'DMF', 'THF'}, 't': ('>', 0.5)})])\n"
        "print(space.fingerprint())\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    fingerprints = [run.communicate(timeout=60)[0].strip() for run in runs]
    assert len(fingerprints[0]) == 64 and fingerprints[1] == fingerprints[0]


def test_an_exclusion_lists_a_set_in_order_and_a_list_as_given():
    """Numbers by value, then text; a list keeps the order stores written before hold."""
    mixed = Exclusion({"s": {"b", 2, "a", 1.5}})
    assert mixed.conditions["s"] == [1.5, 2, "a", "b"]
    assert Exclusion({"s": ["b", "a"]}).to_dict()["conditions"]["s"] == {"in": ["b", "a"]}


def test_minus_zero_is_the_point_zero():
    """-0.0 got another id than 0.0: the same experiment could be told twice."""
    space = Space([Real("a", -1, 1), Real("b", 0, 1)])
    zero, minus_zero = {"a": 0.0, "b": 0.5}, {"a": -0.0, "b": 0.5}
    assert space.candidate_id(minus_zero) == space.candidate_id(zero)
    assert math.copysign(1.0, space.canonical(minus_zero)["a"]) == 1.0
    campaign = Campaign(space, None, "y", surrogate="forest", budget=4, n_initial=2)
    campaign.tell(zero, 1.0)
    with pytest.raises(ConfigurationError, match="already has a measurement"):
        campaign.tell(minus_zero, 7.0)


def test_candidate_ids_are_derived_from_values():
    space = reaction_space()
    point = {"temperature": 50, "time": 3.0, "equivalents": 2, "solvent": "MeCN"}
    same = {"solvent": "MeCN", "equivalents": 2.0, "time": 3, "temperature": 50.0}
    assert space.candidate_id(point) == space.candidate_id(same)
    assert space.candidate_id(point) != space.candidate_id(point | {"temperature": 50.1})


# -- sampling ----------------------------------------------------------------------------


def test_mixture_samples_sum_to_one_and_water_stays_below_boiling():
    space = Space(
        [
            Real("a", 0, 1),
            Real("b", 0, 1),
            Real("c", 0, 1),
            Real("temperature", 20, 150),
            Categorical("solvent", ["water", "DMF"]),
        ],
        [
            LinearConstraint({"a": 1, "b": 1, "c": 1}, "==", 1),
            Exclusion({"solvent": ["water"], "temperature": (">", 100)}),
        ],
    )
    points = space.sample(256, "sobol", seed=3)
    assert len(points) == 256
    sums = np.array([p["a"] + p["b"] + p["c"] for p in points])
    assert np.abs(sums - 1).max() <= EQUALITY_TOLERANCE
    assert all(p["temperature"] <= 100 for p in points if p["solvent"] == "water")
    assert {p["solvent"] for p in points} == {"water", "DMF"}


def test_sobol_and_lhs_cover_the_box_evenly():
    space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    for method in ("sobol", "lhs"):
        X = space.encode(space.sample(64, method, seed=0))
        counts = np.histogram(X[:, 0], bins=8, range=(0, 1))[0]
        assert counts.tolist() == [8] * 8  # one-dimensional strata are all hit equally


def test_sampling_is_reproducible_by_seed():
    space = reaction_space()
    assert space.sample(10, seed=5) == space.sample(10, seed=5)
    assert space.sample(10, seed=5) != space.sample(10, seed=6)


def test_constraints_that_leave_too_little_to_sample_are_reported():
    """t > 0 excluded leaves the single point t = 0: a space, but none a sampler draws."""
    space = Space([Categorical("s", ["x"]), Real("t", 0, 1)], [Exclusion({"t": (">", 0)})])
    with pytest.raises(ConfigurationError, match="leave too little of the space"):
        space.sample(4)


@pytest.mark.parametrize(
    ("parameters", "constraints", "named"),
    [
        ([Real("a", 0, 1)], [Exclusion({"a": (">=", 0)})], "exclusions: not (a >= 0)"),
        (
            [Categorical("s", ["x", "y"]), Integer("n", 1, 2)],
            [Exclusion({"s": ["x", "y"]})],
            "exclusions: not (s in ['x', 'y'])",
        ),
        (
            [Categorical("s", ["x", "y"]), Real("t", 0, 1)],
            [
                Exclusion({"s": ["x"], "t": (">", 0.5)}),
                Exclusion({"s": ["x"], "t": ("<=", 0.5)}),
                Exclusion({"s": ["y"]}),
            ],
            "not (s in ['x'] and t > 0.5); not (s in ['x'] and t <= 0.5); not (s in ['y'])",
        ),
        (
            [Integer("n", 1, 3), Real("t", 0, 1)],
            [Exclusion({"n": ("<", 2)}), Exclusion({"n": [2, 3], "t": ("<", 2)})],
            "exclusions: not (n < 2); not (n in [2, 3] and t < 2)",
        ),
        (  # the exclusion leaves a <= 0.4, too little for a + b >= 1.5
            [Real("a", 0, 1), Real("b", 0, 1)],
            [LinearConstraint({"a": 1, "b": 1}, ">=", 1.5), Exclusion({"a": (">", 0.4)})],
            "constraints: 1*a + 1*b >= 1.5; not (a > 0.4)",
        ),
    ],
)
def test_exclusions_that_leave_no_point_are_refused_when_the_space_is_built(
    parameters, constraints, named
):
    """A space with every point excluded was accepted: a campaign on it failed in run()
    ("0 feasible points in 130 draws") or, over integers and categories, stopped at once
    as "space exhausted" with no experiment."""
    with pytest.raises(ConfigurationError) as error:
        Space(parameters, constraints)
    assert "no point of the space meets its" in str(error.value)
    assert named in str(error.value)


def test_exclusions_that_leave_a_single_value_or_category_are_accepted():
    edge = Space([Real("a", 0, 1)], [Exclusion({"a": (">", 0.5)}), Exclusion({"a": ("<", 0.5)})])
    assert edge.contains({"a": 0.5})
    one = Space([Categorical("s", ["x", "y"]), Integer("n", 1, 2)], [Exclusion({"s": ["x"]})])
    assert [p["s"] for p in one.listed()[0]] == ["y", "y"]


@st.composite
def random_spaces(draw):
    n_real = draw(st.integers(1, 4))
    parameters = [
        Real(f"r{i}", low, low + draw(st.floats(0.1, 10)))
        for i, low in enumerate(draw(st.lists(st.floats(-5, 5), min_size=n_real,
                                              max_size=n_real)))
    ]  # fmt: skip
    if draw(st.booleans()):
        parameters.append(Integer("n", 0, draw(st.integers(1, 6))))
    categories = ["u", "v", "w"][: draw(st.integers(1, 3))]
    parameters.append(Categorical("s", categories))
    constraints = []
    reals = [p for p in parameters if isinstance(p, Real)]
    if len(reals) >= 2 and draw(st.booleans()):
        # a weighted sum pinned inside its reachable range: always feasible
        weights = {p.name: draw(st.floats(0.2, 2)) for p in reals[:3]}
        low = sum(w * parameters[int(n[1:])].low for n, w in weights.items())
        high = sum(w * parameters[int(n[1:])].high for n, w in weights.items())
        level = low + draw(st.floats(0.2, 0.8)) * (high - low)
        constraints.append(LinearConstraint(weights, draw(st.sampled_from(["==", "<="])), level))
    if len(categories) > 1 and draw(st.booleans()):
        # another category keeps the whole box: with one category, the exclusion and a
        # pinned equality can leave a single point (2 r0 + r1 + r2 == 3 with r0 <= 0.5
        # on the unit cube), which no sampler can draw 40 distinct points from
        r = reals[0]
        constraints.append(Exclusion({"s": [categories[0]], r.name: (">", (r.low + r.high) / 2)}))
    integers = [p for p in parameters if isinstance(p, Integer)]
    if integers and len(categories) > 1 and draw(st.booleans()):
        # listed integers: a part around a point may narrow the range past them. At
        # least one value stays open, or the last category is excluded outright and,
        # with the exclusion above and a pinned equality, a single point may remain
        n = integers[0]
        most = min(2, n.high - n.low)
        listed = draw(st.lists(st.integers(n.low, n.high), min_size=1, max_size=most, unique=True))
        constraints.append(Exclusion({"s": [categories[-1]], n.name: listed}))
    return Space(parameters, constraints)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=random_spaces(), method=st.sampled_from(["sobol", "lhs", "random"]))
def test_every_sampled_point_meets_every_constraint(space, method):
    points = space.sample(40, method, seed=1)
    assert len(points) == 40
    for point in points:
        assert space.violation(point) is None
        for p in space.parameters:
            if isinstance(p, Integer):
                assert isinstance(point[p.name], int)
            if isinstance(p, Categorical):
                assert point[p.name] in p.values
    assert Space.from_json(space.to_json()) == space


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=random_spaces(), length=st.floats(0.5**7, 1.6))
def test_a_part_around_a_point_keeps_to_its_box_and_to_every_constraint(space, length):
    centre = space.sample(16, seed=3)[0]
    part = space.around(centre, length)
    reals = [space.feature_slice(p.name).start for p in space.parameters if isinstance(p, Real)]
    middle = space.encode([centre])[0, reals]
    for point in part.sample(20, seed=4):
        assert space.violation(point) is None
        offset = np.abs(space.encode([point])[0, reals] - middle)
        assert np.all(offset <= length / 2 + 1e-9)


def test_a_part_around_a_point_drops_excluded_integers_its_range_no_longer_holds():
    space = Space(
        [Integer("equivalents", 1, 8), Categorical("solvent", ["water", "THF"])],
        [
            Exclusion({"solvent": ["THF"], "equivalents": [8]}),
            Exclusion({"solvent": ["water"], "equivalents": [1, 8]}),
        ],
    )
    part = space.around({"equivalents": 1, "solvent": "water"}, 0.3)
    (equivalents,) = [p for p in part.parameters if p.name == "equivalents"]
    assert equivalents.high < 8  # the box leaves 8 out: no exclusion may list it
    assert [c.conditions for c in part.constraints] == [{"solvent": ["water"], "equivalents": [1]}]
    assert part.violation({"equivalents": 1, "solvent": "water"}) is not None
    assert part.violation({"equivalents": 2, "solvent": "THF"}) is None


def test_an_exclusion_of_integers_compares_them_by_value():
    space = Space([Integer("n", 1, 3), Real("x", 0, 1)], [Exclusion({"n": [2.0]})])
    assert not space.contains({"n": 2, "x": 0.5}) and space.contains({"n": 3, "x": 0.5})
    listed_as_int = Space([Integer("n", 1, 3), Real("x", 0, 1)], [Exclusion({"n": [2]})])
    assert not listed_as_int.contains({"n": 2.0, "x": 0.5})
    by_text = Space([Categorical("s", [1, 2])], [Exclusion({"s": ["1"]})])
    assert not by_text.contains({"s": 1}) and by_text.contains({"s": 2})


def test_bounds_read_off_a_table_are_numbers_and_bad_bounds_are_named():
    table = pd.DataFrame({"n": [1, 5, 3], "x": np.array([0.1, 0.9, 0.5], dtype=np.float32)})
    assert Integer("n", table["n"].min(), table["n"].max()) == Integer("n", 1, 5)
    assert Real("x", table["x"].min(), table["x"].max()).high == pytest.approx(0.9)
    with pytest.raises(ConfigurationError, match="low must be an integer, got None"):
        Integer("n", None, 3)
    with pytest.raises(ConfigurationError, match="wider than a float holds"):
        Real("x", -1e308, 1e308)


def test_a_wide_integer_range_decodes_to_the_nearest_integers():
    wide = Integer("rpm", 0, 10**12)
    unit = np.linspace(0, 1, 256)[:, None]
    assert wide.decode(unit) == [round(u * 10**12) for u in unit[:, 0]]
    steps = Integer("layers", 1, 1000, log=True)
    values = np.arange(1, 1001)
    table = steps.encode(values)[:, 0]
    continuous = np.random.default_rng(0).random((500, 1))
    nearest = values[np.abs(continuous - table[None, :]).argmin(axis=1)]
    assert steps.decode(continuous) == nearest.tolist()


def test_an_equality_met_only_within_the_tolerance_is_sampled_on_its_edge():
    """a + b can reach 2 at most; 2.0000001 is met within the space's tolerance (the
    space accepts a = b = 1), so its points are sampled, not a failure at run time."""
    space = Space(
        [Real("a", 0, 1), Real("b", 0, 1), Real("c", 0, 1)],
        [LinearConstraint({"a": 1, "b": 1}, "==", 2.0000001)],
    )
    points = space.sample(8, seed=0)
    assert len(points) == 8 and all(space.contains(p) for p in points)
    assert np.allclose([p["a"] + p["b"] for p in points], 2.0, atol=1e-5)


def test_a_gp_campaign_meets_an_equality_over_wide_bounds():
    """a + b == 1e9 with a, b in [0, 1e9]: the optimiser is handed constraint rows of
    order one, not 1e9 * x, and proposes points that meet the equality."""
    high = 1e9
    space = Space(
        [Real("a", 0, high), Real("b", 0, high), Real("c", 0, 1)],
        [LinearConstraint({"a": 1, "b": 1}, "==", high)],
    )

    def peak(candidate):
        p = candidate.parameters
        return -((p["a"] / high - 0.3) ** 2) - (p["c"] - 0.5) ** 2

    campaign = Campaign(space, FunctionOracle(peak, output="y"), "y", budget=5, n_initial=3)
    history = campaign.run(progress=False).history
    assert len(history) == 5 and history["y"].notna().all()
    assert all(space.contains(row) for row in history[space.names].to_dict("records"))
    assert all(max(abs(c) for c in row.coefficients) == 1 for row in space.feature_constraints())


@pytest.mark.parametrize("n_fractions", [5, 6])
def test_fractions_summing_to_at_most_one_are_sampled_across_their_simplex(n_fractions):
    """Five fractions with sum <= 1 fill 1/120 of their box, too little for rejection:
    the points are drawn inside the simplex instead, spread over all of it."""
    names = [f"x{i}" for i in range(n_fractions)]
    space = Space(
        [*(Real(n, 0, 1) for n in names), Categorical("solvent", ["water", "THF"])],
        [LinearConstraint(dict.fromkeys(names, 1), "<=", 1)],
    )
    points = space.sample(256, seed=0)
    assert len(points) == 256 and all(space.contains(p) for p in points)
    fractions = np.array([[p[n] for n in names] for p in points])
    # a uniform point of the simplex has mean 1 / (n + 1) in each fraction
    assert np.allclose(fractions.mean(axis=0), 1 / (n_fractions + 1), atol=0.04)
    assert {p["solvent"] for p in points} == {"water", "THF"}


def test_a_polytope_that_rejection_finds_too_little_of_is_sampled_inside_it():
    """Four fractions with sum <= 1 fill 1/24 of their box, and x0 <= 0.1 leaves a third
    of that: box draws find too few points, so the sampler walks inside the simplex."""
    names = [f"x{i}" for i in range(4)]
    space = Space(
        [Real(n, 0, 1) for n in names],
        [
            LinearConstraint(dict.fromkeys(names, 1), "<=", 1),
            Exclusion({"x0": (">", 0.1)}),
        ],
    )
    points = space.sample(64, seed=0)
    assert len(points) == 64 and all(space.contains(p) for p in points)


def test_a_wide_integer_range_is_sampled_and_narrowed_without_listing_its_values():
    wide = Integer("rpm", 0, 10**12)
    assert isinstance(wide.values, range) and len(wide.values) == 10**12 + 1
    space = Space([wide, Real("x", 0, 1)])
    values = [p["rpm"] for p in space.sample(64, seed=0)]
    assert all(isinstance(v, int) and 0 <= v <= 10**12 for v in values)
    assert min(values) < 10**11 and max(values) > 9 * 10**11
    part = space.around({"rpm": 5 * 10**11, "x": 0.5}, 0.1)
    narrowed = part.parameter("rpm")
    assert narrowed.low == 45 * 10**10 and narrowed.high == 55 * 10**10
    assert space.discrete_combinations(10**6) is None


@pytest.mark.parametrize(("low", "high"), [(0, 10**20), (0, 2**53 + 1), (-(2**53) - 1, 0)])
def test_an_integer_beyond_what_a_float64_holds_exactly_is_refused(low, high):
    """Integer("n", 0, 10**20) was accepted, then a GP campaign failed in run() with a raw
    OverflowError (Python int too large to convert to C ssize_t), as did a forest's."""
    with pytest.raises(ConfigurationError, match=r"'n': \w+ must lie within \+-2\*\*53"):
        Integer("n", low, high)


@pytest.mark.parametrize("high", [10**12, 2**53])
def test_an_integer_up_to_what_a_float64_holds_exactly_is_sampled_and_narrowed(high):
    space = Space([Integer("n", -high, high), Real("x", 0, 1)])
    values = [p["n"] for p in space.sample(16, seed=0)]
    assert all(isinstance(v, int) and -high <= v <= high for v in values)
    narrowed = space.around({"n": 0, "x": 0.5}, 0.1).parameter("n")
    assert narrowed.high == pytest.approx(high / 10, rel=1e-12)
    assert narrowed.low == pytest.approx(-high / 10, rel=1e-12)
    assert space.discrete_combinations(10**6) is None


def test_a_log_integer_is_sampled_evenly_on_its_log_scale():
    """As its model sees it, and as a log Real over the same range is sampled: half the
    points of 1..10^4 lie below 100."""
    space = Space([Integer("n", 1, 10**4, log=True)])
    points = space.sample(64, seed=0)
    values = np.array([p["n"] for p in points])
    assert all(isinstance(v, int) for v in values.tolist())
    assert 0.4 <= np.mean(values < 100) <= 0.6
    counts = np.histogram(space.encode(points)[:, 0], bins=4, range=(0, 1))[0]
    assert counts.min() >= 12  # each decade gets its share of the 64


def test_a_constraint_over_values_far_from_zero_holds_to_their_range_not_their_size():
    """a >= b with a, b in [1e6, 1e6 + 1]: the tolerance was a share of the values' size
    (2), wider than their range, so sampled points had a - b = -0.67 and a < b by a whole
    range was inside the space."""
    space = Space(
        [Real("a", 1e6, 1e6 + 1), Real("b", 1e6, 1e6 + 1)],
        [LinearConstraint({"a": 1, "b": -1}, ">=", 0)],
    )
    points = space.sample(32, seed=0)
    assert min(p["a"] - p["b"] for p in points) >= -EQUALITY_TOLERANCE
    assert not space.contains({"a": 1e6, "b": 1e6 + 1})
    assert not space.contains({"a": 1e6, "b": 1e6 + 1e-5})
    assert space.contains({"a": 1e6, "b": 1e6 + 1e-7})
    # values near 1e12 are floats 1.2e-4 apart: a sum is met as closely as they allow
    rounded = Space(
        [Real("a", 1e12, 1e12 + 1), Real("b", 0, 1)],
        [LinearConstraint({"a": 0.7, "b": 0.3}, "==", 0.7e12 + 0.5)],
    )
    a, b = 1e12 + 0.6, (0.5 - 0.7 * 0.6) / 0.3
    assert 0.7 * a + 0.3 * b != 0.7e12 + 0.5 and rounded.contains({"a": a, "b": b})


@pytest.mark.parametrize(
    ("names", "bound"), [(["a", "b"], 1.9), ([f"x{i}" for i in range(5)], 4.5)]
)
def test_a_thin_polytope_away_from_the_origin_is_sampled_inside_it(names, bound):
    """a + b >= 1.9 fills 0.5 % of its box, away from the corner at 0: the walk that
    samples thin polytopes took the corner for inside and relaxed the constraint away."""
    space = Space(
        [Real(n, 0, 1) for n in names], [LinearConstraint(dict.fromkeys(names, 1), ">=", bound)]
    )
    points = space.sample(64, seed=0)
    assert len(points) == 64 and all(space.contains(p) for p in points)
    sums = np.array([sum(p[n] for n in names) for p in points])
    assert sums.min() >= bound - 1e-6 and np.ptp(sums) > 0.01


def test_a_long_thin_mixture_is_sampled_along_its_whole_length():
    """Five parts summing to 1, the first two holding 90 % or more: BoTorch's single
    hit-and-run chain put 'a' above 'b' in two draws of three (uniform: one in two) and
    took 3.3 s for 4,096 points; chains all started at the centre kept a third of the
    spread along the mixture."""
    names = list("abcde")
    space = Space(
        [Real(name, 0, 1) for name in names],
        [LinearConstraint(dict.fromkeys(names, 1), "==", 1),
         LinearConstraint({"a": 1, "b": 1}, ">=", 0.9)],
    )  # fmt: skip
    X = space.encode(space.sample(4096, seed=0))
    assert (
        np.abs(X.sum(axis=1) - 1).max() <= EQUALITY_TOLERANCE and (X[:, 0] + X[:, 1]).min() >= 0.9
    )
    assert abs((X[:, 0] > X[:, 1]).mean() - 0.5) < 0.12  # a and b are alike
    assert X[:, 0].std() > 0.24  # uniform: 0.27
