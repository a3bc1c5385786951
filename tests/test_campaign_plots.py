"""``result.plot``: a campaign's figures in Python, and the health checks built on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from discovery import (
    Campaign,
    CampaignResult,
    CandidatePool,
    ConfigurationError,
    FunctionOracle,
    LookupOracle,
    Objective,
    plots,
)
from discovery.report import load_campaign
from discovery.report.health import NOT_YET, OK, WARNING, health_checks


def _emulated(values: np.ndarray, budget: int, seed: int = 0):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((len(values), 3)), columns=["a", "b", "c"]).assign(y=values)
    pool = CandidatePool.from_frame(frame, objective="y")
    campaign = Campaign(
        pool, LookupOracle.from_pool(pool, "y"), "y", surrogate="forest", budget=budget, seed=seed
    )
    return campaign.run(progress=False), frame


def checks_of(result) -> dict:
    return {c.name: c for c in health_checks(result.plot)}


def test_every_figure_of_a_pool_campaign_draws_its_data():
    rng = np.random.default_rng(1)
    features = rng.random((150, 3))
    result, _ = _emulated(np.sin(4 * features[:, 0]) + features[:, 1], budget=14)
    assert result.plot.available() == [
        "best_so_far",
        "measured",
        "parity",
        "space_map",
        "importance",
    ]
    for name in result.plot.available():
        figure = getattr(result.plot, name)()
        assert isinstance(figure, Figure) and figure.axes
        assert any(axes.has_data() for axes in figure.axes), name
    band = [
        c for c in result.plot.best_so_far().axes[0].collections if isinstance(c, PolyCollection)
    ]
    assert band, "a dataset emulator's pool gives random search's band"
    labels = [t.get_text() for t in result.plot.space_map().axes[0].texts]
    assert labels == [str(i) for i in range(1, 15)]  # every experiment numbered, in order


def test_figures_that_do_not_apply_say_why():
    result, _ = _emulated(np.linspace(0, 1, 40), budget=5)
    with pytest.raises(ConfigurationError, match="one objective"):
        result.plot.pareto()
    with pytest.raises(ConfigurationError, match="at least 6"):
        result.plot.parity()
    with pytest.raises(ConfigurationError, match="no portfolio"):
        result.plot.arms()


def test_health_checks_flag_a_model_of_noise_and_a_stalled_search():
    noise = np.random.default_rng(3).standard_normal(200)
    noise[np.argmax(noise)] = 10.0  # one outstanding design, found or not
    result, _ = _emulated(noise, budget=40)
    checks = {c.name: c for c in health_checks(result.plot)}
    model = checks["the model predicts better than the mean of the measurements"]
    assert model.verdict != OK and ("no better" in model.detail or "barely" in model.detail)
    assert checks["failures are rare and scattered"].verdict == OK


def test_a_search_without_a_new_best_for_long_is_called_stalled():
    best = [1.0, 2.0, 3.0] + [3.0] * 27
    history = pd.DataFrame(
        {
            "iteration": range(30),
            "candidate_id": [str(i) for i in range(30)],
            "y": best,
            "state": "succeeded",
            "best_so_far": best,
            "error_class": None,
        }
    )
    checks = {c.name: c for c in health_checks(CampaignResult(history, "y", True).plot)}
    stalled = checks["the best value is still improving"]
    assert stalled.verdict == WARNING
    assert stalled.detail.startswith("last improvement at experiment 3 of 30: none in the last 27")
    assert checks["the model predicts better than the mean of the measurements"].verdict == NOT_YET


def test_failures_in_one_corner_are_drawn_and_called_a_cluster():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.random((150, 3)), columns=["a", "b", "c"])
    pool = CandidatePool.from_frame(frame)

    def experiment(candidate):
        p = candidate.parameters
        if p["a"] > 0.6 and p["b"] > 0.6:
            raise ValueError("the furnace tripped")
        return p["a"] + p["b"] - p["c"]

    result = Campaign(
        pool, FunctionOracle(experiment, output="y"), "y", surrogate="forest", budget=30, seed=0
    ).run(progress=False)
    failed = int((result.history["state"] == "failed").sum())
    assert failed >= 3
    assert "failures" in result.plot.available()
    crosses = result.plot.failures().axes[0].collections
    assert sum(len(c.get_offsets()) for c in crosses) >= failed
    check = checks_of(result)["failures are rare and scattered"]
    assert check.verdict == WARNING and "bunch in one region" in check.detail


def test_the_map_numbers_each_measured_design_by_its_experiment(tmp_path):
    """A measurement told first for a design outside the pool, a failed experiment and two
    asked and not yet measured: the map drew the failed and pending designs as measured
    and numbered every point 1, 2, ... in order, so experiment 3 read as 1 and the last
    number was a design never measured."""
    pool = CandidatePool.from_frame(
        pd.DataFrame({"a": np.linspace(0, 1, 30), "b": np.linspace(0, 1, 30) ** 2})
    )

    def experiment(candidate):
        if candidate.parameters["a"] > 0.75:
            raise ValueError("the furnace tripped")
        return np.sin(5 * candidate.parameters["a"])

    store = tmp_path / "map.sqlite"
    campaign = Campaign(
        pool, FunctionOracle(experiment, output="y"), "y", surrogate="forest", budget=12,
        n_initial=4, seed=0, store=store,
    )  # fmt: skip
    campaign.tell("lab-notebook-1", 0.5, parameters={"a": 0.5, "b": 5.0})  # b outside the pool
    campaign.run(progress=False)
    campaign.ask(2)
    history = load_campaign(store).result.history
    in_pool = history["candidate_id"] != "lab-notebook-1"
    # Experiments numbered as the report's table of top candidates numbers them.
    measured = (history.index[(history["state"] == "succeeded") & in_pool] + 1).tolist()
    failed = (history["state"] == "failed").sum()
    assert failed >= 1 and (history["state"] == "asked").sum() == 2

    axes = load_campaign(store).result.plot.space_map().axes[0]
    assert [t.get_text() for t in axes.texts] == [str(n) for n in measured]
    [crosses] = [c for c in axes.collections if c.get_label() == "failed (no measurement)"]
    assert len(crosses.get_offsets()) == failed  # drawn apart, unnumbered


@pytest.mark.parametrize(  # the other seeds run with the slow tests (7 s each)
    "seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]
)
def test_failures_scattered_at_random_are_not_called_a_cluster(seed):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.random((150, 3)), columns=["a", "b", "c"])
    pool = CandidatePool.from_frame(frame)
    unlucky = set(rng.choice(150, size=40, replace=False).tolist())  # anywhere in the space

    def experiment(candidate):
        if int(candidate.id) in unlucky:
            raise ValueError("the sample cracked")
        p = candidate.parameters
        return p["a"] + p["b"] - p["c"]

    result = Campaign(
        pool, FunctionOracle(experiment, output="y"), "y", surrogate="forest", budget=30, seed=seed
    ).run(progress=False)
    assert (result.history["state"] == "failed").sum() >= 3
    check = checks_of(result)["failures are rare and scattered"]
    assert "bunch" not in check.detail


def test_random_search_band_of_a_target_lies_on_the_side_of_the_values():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((120, 2)), columns=["a", "b"]).assign(y=np.linspace(1, 2, 120))
    pool = CandidatePool.from_frame(frame, objective="y")
    oracle = LookupOracle.from_pool(pool, "y")
    result = Campaign(pool, oracle, "y", closest_to=0.5, surrogate="forest", budget=8, seed=0).run(
        progress=False
    )
    band = [
        c for c in result.plot.best_so_far().axes[0].collections if isinstance(c, PolyCollection)
    ]
    vertices = band[0].get_paths()[0].vertices[:, 1]
    assert vertices.min() >= 1.0 and vertices.max() <= 2.0  # every value lies above 0.5


def test_an_objective_named_desirability_draws_its_best_so_far():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.random((40, 2)), columns=["a", "b"])
    pool = CandidatePool.from_frame(frame)
    oracle = FunctionOracle(lambda c: c.parameters["a"], output="desirability")
    result = Campaign(pool, oracle, "desirability", surrogate="forest", budget=8).run(
        progress=False
    )
    assert result.plot.best_so_far().axes[0].has_data()


def test_random_search_band_under_a_constraint_counts_feasible_designs_only():
    """Drawn from every design's value, random search's band rose to 0.997 where no
    feasible design is above 0.5: a campaign that found the feasible optimum looked worse
    than random."""
    from discovery import OutcomeConstraint

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(0, 1, 200)})
    frame["y"] = frame["x"]
    frame["impurity"] = frame["x"]  # feasible only where x <= 0.5
    pool = CandidatePool.from_frame(frame, features=["x"], exclude=["y", "impurity"])
    oracle = LookupOracle.from_pool(pool, "y", others=["impurity"])
    result = Campaign(
        pool, oracle, "y", outcome_constraints=[OutcomeConstraint("impurity", "<=", 0.5)],
        surrogate="forest", n_initial=4, budget=8, seed=0,
    ).run(progress=False)  # fmt: skip
    band = [
        c for c in result.plot.best_so_far().axes[0].collections if isinstance(c, PolyCollection)
    ]
    vertices = band[0].get_paths()[0].vertices[:, 1]
    assert np.nanmax(vertices) <= 0.5 and np.nanmax(vertices) > 0.4


#: Fronts of three measurements, each beating the others on one objective, per direction pair.
FRONTS = {
    ("max", "max"): [(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)],
    ("min", "min"): [(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)],
    ("max", "min"): [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)],
    ("min", "max"): [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)],
}


def _front_history(points: list[tuple[float, float]]) -> pd.DataFrame:
    x, y = zip(*points, strict=True)
    return pd.DataFrame({"x": x, "y": y, "state": "succeeded", "feasible": True, "pareto": True})


def _is_dominated_by_one_of(corner: np.ndarray, front: np.ndarray, directions) -> bool:
    """Whether some point of the front is at least as good as ``corner`` on both axes."""
    sign = np.array([1.0 if d == "max" else -1.0 for d in directions])
    return bool(((front * sign) >= (corner * sign)).all(axis=1).any())


@pytest.mark.parametrize("directions", list(FRONTS), ids="/".join)
def test_pareto_staircase_turns_only_at_corners_the_front_dominates(directions):
    """With both objectives maximised (or both minimised), the staircase between the front's
    points turned at (2, 3) (or (1, 2)), corners better than every measurement, drawn as
    if the front reached them."""
    front = np.array(FRONTS[directions])
    objectives = list(zip(("x", "y"), directions, strict=True))
    reference = [0.0 if d == "max" else 4.0 for d in directions]  # worse than every point
    figure = plots.pareto_front(_front_history(FRONTS[directions]), objectives, reference)
    [staircase] = figure.axes[0].lines
    corners = staircase.get_path().vertices
    assert len(corners) == 2 * len(front) - 1  # a turn between each pair of neighbours
    for corner in corners:
        assert _is_dominated_by_one_of(corner, front, directions), (directions, corner)
    [star] = [c for c in figure.axes[0].collections if c.get_label() == "reference point"]
    assert star.get_offsets()[0].tolist() == reference


def test_pareto_figure_does_not_draw_a_match_objectives_reference_as_a_value(tmp_path):
    """The reference of a "match" objective is a distance from its target (0.5 from 1.4:
    a gap in [0.9, 1.9]), but the star was drawn at gap 0.5, a value no measurement in
    the reference's region can have."""
    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    store = tmp_path / "match.sqlite"
    Campaign(
        pool, None, objectives=[Objective("gap", "match", target=1.4), Objective("cost", "min")],
        reference_point=[0.5, 10.0], store=store, budget=10, n_initial=3, surrogate="forest",
    ).tell(
        pd.DataFrame(
            {"candidate_id": ["0", "1", "2"], "gap": [1.3, 1.6, 1.45], "cost": [3.0, 1.0, 5.0]}
        )
    )  # fmt: skip
    axes = load_campaign(store).result.plot.pareto().axes[0]
    assert not [c for c in axes.collections if c.get_label() == "reference point"]
    assert not [line for line in axes.lines if len(line.get_xydata())]  # no staircase either
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert "reference point: a distance from the target, not drawn" in legend
    [front] = [c for c in axes.collections if c.get_label() == "Pareto front"]
    assert len(front.get_offsets()) == 3  # the front is still shown, point by point
