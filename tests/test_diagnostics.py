from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, r2_score

from discovery import ConfigurationError
from discovery.diagnostics import (
    calibration_metrics,
    cross_validate,
    design_groups,
    leaked_rows,
    learning_curve,
    make_folds,
    regression_metrics,
    search_hyperparameters,
    surrogate_cv_score,
)
from discovery.surrogates import RandomForestSurrogate

DATA = Path(__file__).resolve().parents[1] / "campaigns" / "data" / "crossed_barrel" / "data.csv"
RNG = np.random.default_rng(0)


def noisy_function(n=300, noise=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    y = np.sin(4 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + noise * rng.standard_normal(n)
    return X, y


def crossed_barrel():
    frame = pd.read_csv(DATA)
    X = frame[["n", "theta", "r", "t"]].to_numpy(float)
    return (X - X.min(0)) / np.ptp(X, axis=0), frame["toughness"].to_numpy()


def test_metrics_match_scikit_learn():
    y, prediction = RNG.random(50), RNG.random(50)
    metrics = regression_metrics(y, prediction)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, prediction))
    assert metrics["r2"] == pytest.approx(r2_score(y, prediction))
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean((y - prediction) ** 2)))


def test_calibration_of_honest_and_overconfident_error_bars():
    mean, std = np.zeros(20_000), RNG.uniform(0.5, 2.0, 20_000)
    y = RNG.normal(mean, std)
    honest = calibration_metrics(y, mean, std)
    assert honest["coverage_68"] == pytest.approx(0.68, abs=0.01)
    assert honest["coverage_95"] == pytest.approx(0.95, abs=0.01)
    assert honest["miscalibration_area"] < 0.01
    assert honest["error_std_spearman"] > 0.2
    overconfident = calibration_metrics(y, mean, std / 3)
    assert overconfident["coverage_95"] < 0.6
    assert overconfident["nll"] > honest["nll"]


def test_group_folds_keep_replicates_together_and_kfold_leaks():
    X, _ = crossed_barrel()
    groups = design_groups(X)
    assert len(np.unique(groups)) == 600
    leaky = make_folds(X, "kfold", 5)
    grouped = make_folds(X, "group", 5)
    assert leaked_rows(X, leaky) > 1000 and leaked_rows(X, grouped) == 0
    for train, test in grouped:
        assert not set(groups[train]) & set(groups[test])


def test_cluster_folds_hold_out_whole_regions():
    X, _ = noisy_function()
    for train, test in make_folds(X, "cluster", 4):
        # each test fold is one k-means region: on average far from the training rows
        assert np.linalg.norm(X[test].mean(0) - X[train].mean(0)) > 0.1


def test_too_few_rows_or_unknown_scheme_are_named():
    with pytest.raises(ConfigurationError, match="5 folds need at least 5 rows, got 3"):
        make_folds(np.zeros((3, 1)), "kfold", 5)
    with pytest.raises(ConfigurationError, match="unknown scheme 'loo'"):
        make_folds(np.zeros((10, 1)), "loo", 5)


@pytest.mark.slow  # about a minute: three models over 600 designs
def test_models_beat_the_mean_baseline_by_half_with_group_cv_on_crossed_barrel():
    X, y = crossed_barrel()
    diagnosis = cross_validate(X, y, {"forest": "forest", "neural": "neural"}, cv="group")
    assert diagnosis.leaked == 0 and not any("leakage" in w for w in diagnosis.warnings)
    baseline = diagnosis.table.loc["mean (baseline)", "mae"]
    for model in ("forest", "neural"):
        assert diagnosis.table.loc[model, "mae"] <= baseline / 2
    assert diagnosis.table.loc["forest", "mae"] < diagnosis.table.loc["ridge (baseline)", "mae"]


def test_plain_kfold_on_replicates_warns_about_leakage():
    X, y = crossed_barrel()
    diagnosis = cross_validate(X[::6], y[::6], {"forest": "forest"}, cv="kfold")
    assert diagnosis.leaked > 0 and any("leakage" in w for w in diagnosis.warnings)


def test_gp_and_ensemble_intervals_are_calibrated_on_known_noise():
    X, y = noisy_function()
    table = cross_validate(X, y, {"gp": "gp", "neural": "neural"}).table
    for model in ("gp", "neural"):
        assert 0.90 <= table.loc[model, "coverage_95"] <= 0.99, table


def test_constant_target_and_dead_features_are_reported():
    X = np.column_stack([RNG.random(30), np.ones(30)])
    diagnosis = cross_validate(X, np.ones(30), {}, feature_names=["a", "dead"])
    assert any("constant" in w for w in diagnosis.warnings)
    assert any("['dead']" in w for w in diagnosis.warnings)


def test_learning_curve_improves_with_data():
    X, y = noisy_function(n=200, noise=0.05)
    curve = learning_curve(X, y, RandomForestSurrogate(n_estimators=30), sizes=(0.1, 1.0))
    assert curve["training_rows"].tolist() == [16, 160]
    assert curve["mae"].iloc[1] < curve["mae"].iloc[0]


def test_a_learning_curve_with_a_training_fold_too_small_to_fit_is_refused():
    X, y = np.array([[0.0], [0.0], [1.0]]), np.array([1.0, 1.1, 2.0])
    with pytest.raises(ConfigurationError, match=r"training fold .* holds 1 row"):
        learning_curve(X, y, "forest", cv="group", folds=2)


def test_the_leakage_warning_with_groups_given_does_not_ask_for_groups():
    X = np.repeat(np.arange(10.0), 3)[:, None]  # three replicates of ten designs
    y = X[:, 0] + RNG.normal(0, 0.1, 30)
    batches = np.tile([0, 1, 2], 10)  # each batch holds one replicate of every design
    diagnosis = cross_validate(X, y, {}, cv="group", folds=3, groups=batches)
    (warning,) = [w for w in diagnosis.warnings if "leakage" in w]
    assert "give replicates one group" in warning and "--cv group" not in warning


def test_hyperparameter_search_uses_scikit_learn_with_surrogate_names():
    X, y = noisy_function(n=80)
    search = search_hyperparameters(
        X, y, "forest", {"n_estimators": [10, 40], "min_samples_leaf": [1, 8]}, n_iter=4, folds=3
    )
    assert set(search.best_params_) == {"surrogate__n_estimators", "surrogate__min_samples_leaf"}
    assert len(search.cv_results_["params"]) == 4


def test_quick_cv_score_needs_four_measurements():
    X, y = noisy_function(n=20)
    assert surrogate_cv_score(RandomForestSurrogate(), X[:3], y[:3]) is None
    score = surrogate_cv_score(RandomForestSurrogate(), X, y)
    assert score["folds"] == 5 and score["mae"] > 0


@pytest.mark.slow
def test_gp_forest_and_neural_halve_the_mean_baseline_error_with_group_cv():
    X, y = crossed_barrel()
    table = cross_validate(
        X, y, {"gp": "gp", "forest": "forest", "neural": "neural"}, cv="group"
    ).table
    for model in ("gp", "forest", "neural"):
        assert table.loc[model, "mae"] <= table.loc["mean (baseline)", "mae"] / 2, table


def test_calibration_does_not_depend_on_the_units():
    mean, std = np.zeros(2_000), RNG.uniform(0.5, 2.0, 2_000)
    y = RNG.normal(mean, std)
    plain = calibration_metrics(y, mean, std)
    tiny = calibration_metrics(y * 1e-12, mean, std * 1e-12)  # m^2/s, not um^2/s
    for name in ("coverage_68", "coverage_95", "miscalibration_area"):
        assert tiny[name] == pytest.approx(plain[name])
