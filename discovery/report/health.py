"""Health checks of a campaign, each a line with a verdict: is the model any good, are
its error bars honest, is the search still improving, are constraints ever met, do
failures cluster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import MinMaxScaler

from discovery.campaign_plots import MIN_FOR_MODEL, CampaignPlots
from discovery.plots import failed_mask

OK, WARNING, PROBLEM, NOT_YET = "ok", "warning", "problem", "not yet"
#: The model must cut the mean baseline's RMSE by this factor to count as useful.
USEFUL_RMSE_RATIO = 0.9
#: Observed coverage of the 95 % intervals below which the model is over-confident.
OVER_CONFIDENT_95 = 0.85
#: Under-confident: this many or more measurements inside their 68 % intervals would
#: happen this rarely with honest intervals (all inside the 95 % ones is common: 36 % of
#: the time with 20 measurements, so that alone says little).
UNDER_CONFIDENT_P_VALUE = 0.01
#: No new best in this share of the experiments (at least STALE_MINIMUM): stalled.
STALE_SHARE, STALE_MINIMUM = 0.25, 10
#: Failures bunch when label shuffles this rarely give as many failed nearest neighbours.
CLUSTER_P_VALUE = 0.01
#: Shuffles of the failed/succeeded labels behind that p-value (seeded: a report repeats).
CLUSTER_SHUFFLES = 999


@dataclass(frozen=True)
class Check:
    """One health check: what was asked, the verdict, and the figures behind it."""

    name: str
    verdict: str
    detail: str


def health_checks(plots: CampaignPlots) -> list[Check]:
    """Every check that applies to the campaign behind ``plots``, in reading order."""
    checks = [_model_check(plots), _calibration_check(plots), _progress_check(plots)]
    if plots.result.outcomes is not None and plots.result.outcomes.constraints:
        checks.append(_constraint_check(plots))
    checks.append(_failure_check(plots))
    return checks


def _model_check(plots: CampaignPlots) -> Check:
    name = "the model predicts better than the mean of the measurements"
    if plots.result.pool is None or not plots._enough_for_model():
        return Check(name, NOT_YET, f"needs at least {MIN_FOR_MODEL} measurements and the pool")
    check = plots.cross_validation()
    rmse, baseline = check["metrics"]["rmse"], check["baseline_rmse"]
    words = f"out-of-fold RMSE {rmse:.3g} against {baseline:.3g} for the mean"
    if not baseline > 0:  # every measurement alike: nothing to predict yet
        return Check(name, NOT_YET, f"every measurement has the same value ({words})")
    if rmse <= USEFUL_RMSE_RATIO * baseline:
        return Check(name, OK, words)
    if rmse < baseline:
        return Check(name, WARNING, f"{words}: barely better; its choices are close to random")
    return Check(name, PROBLEM, f"{words}: no better than the mean; its choices are random")


def _calibration_check(plots: CampaignPlots) -> Check:
    name = "the model's error bars are calibrated"
    if plots.result.pool is None or not plots._enough_for_model():
        return Check(name, NOT_YET, f"needs at least {MIN_FOR_MODEL} measurements and the pool")
    check = plots.cross_validation()
    metrics, count = check["metrics"], len(check["y"])
    covered = metrics["coverage_95"]
    words = f"{covered:.0%} of the measurements lie inside their 95 % intervals"
    if covered < OVER_CONFIDENT_95:
        return Check(name, WARNING, f"{words}: over-confident, it will explore too little")
    inside = round(metrics["coverage_68"] * count)
    if binom.sf(inside - 1, count, 0.68) < UNDER_CONFIDENT_P_VALUE:
        return Check(
            name,
            WARNING,
            f"{words}, and {inside} of {count} inside their 68 % intervals: under-confident, "
            "its intervals are wider than its errors and it will explore too much",
        )
    return Check(name, OK, words)


def _progress_check(plots: CampaignPlots) -> Check:
    name = "the best value is still improving"
    history = plots.result.history
    column = "hypervolume" if "hypervolume" in history else "best_so_far"
    best = history[column].to_numpy(float)
    if not np.isfinite(best).any():
        return Check(name, NOT_YET, "no successful measurement yet")
    changes = np.flatnonzero(np.diff(np.nan_to_num(best, nan=-np.inf)) != 0) + 2
    last = int(changes[-1]) if changes.size else int(np.argmax(np.isfinite(best))) + 1
    stale = len(best) - last
    window = max(STALE_MINIMUM, int(STALE_SHARE * len(best)))
    words = f"last improvement at experiment {last} of {len(best)}"
    if stale >= window:
        return Check(
            name, WARNING, f"{words}: none in the last {stale}; explore more, or stop here"
        )
    return Check(name, OK, words)


def _constraint_check(plots: CampaignPlots) -> Check:
    name = "the outcome constraints are met"
    history = plots.result.history
    measured = history[history["state"] == "succeeded"]
    feasible = int(measured["feasible"].sum())
    words = f"{feasible} of {len(measured)} measurements meet every constraint"
    if len(measured) and feasible == 0:
        return Check(name, PROBLEM, f"{words}: the search has not found the feasible region")
    return Check(name, OK if feasible else NOT_YET, words)


def _failure_check(plots: CampaignPlots) -> Check:
    name = "failures are rare and scattered"
    history = plots.result.history
    failed = failed_mask(history)
    if not failed.any():
        return Check(name, OK, "no failed experiments")
    share = failed.mean()
    classes = history.loc[failed, "error_class"].fillna("unclassified").value_counts()
    words = (
        f"{int(failed.sum())} of {len(history)} experiments failed ({share:.0%}); most are "
        f"'{classes.index[0]}' ({classes.iloc[0]} of {int(failed.sum())})"
    )
    region = _failure_region(plots, failed)
    if region:
        return Check(name, WARNING, f"{words}; {region}")
    return Check(name, WARNING if share > 0.2 else OK, words)


def _failure_region(plots: CampaignPlots, failed: np.ndarray) -> str:
    """Words naming the region where failures bunch, or "" when they do not.

    Failures bunch when a failed design's nearest measured neighbour failed too far more
    often than if the same number of failures were scattered at random over the measured
    designs (a nearest-neighbour join count, judged against shuffles of the labels).
    Measured designs, not the whole space, are the reference: a search that settles in
    one region makes its failures look clustered in the space however they arise.
    """
    if plots.result.pool is None or failed.sum() < 3:
        return ""
    features, _ = plots.design_features()
    known = np.isfinite(features).all(axis=1)
    if known.sum() < 6 or (failed & known).sum() < 3 or failed[known].all():
        return ""
    points, labels = MinMaxScaler().fit_transform(features[known]), failed[known]
    _, neighbours = NearestNeighbors(n_neighbors=2).fit(points).kneighbors(points)
    itself = neighbours[:, 0] == np.arange(len(points))  # a repeated design may come first
    nearest = np.where(itself, neighbours[:, 1], neighbours[:, 0])  # the closest other one
    joins = int((labels & labels[nearest]).sum())
    rng = np.random.default_rng(0)
    shuffled = np.array([rng.permutation(labels) for _ in range(CLUSTER_SHUFFLES)])
    null = (shuffled & shuffled[:, nearest]).sum(axis=1)
    p_value = (1 + int((null >= joins).sum())) / (1 + CLUSTER_SHUFFLES)
    if p_value >= CLUSTER_P_VALUE:
        return ""
    return (
        f"the failed designs bunch in one region of the space ({joins} of "
        f"{int(labels.sum())} have a failed nearest neighbour, about {null.mean():.1f} would "
        f"if failures were scattered; p = {p_value:.3f})"
    )
