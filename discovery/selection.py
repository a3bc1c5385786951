"""Selectors: which candidates to measure next, from scores (batches) or from features alone
(initial designs). A selector never returns an excluded (measured or pending) candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin_min

from discovery.checks import is_whole_number
from discovery.config import NOT_STORED
from discovery.exceptions import ConfigurationError


@runtime_checkable
class Selector(Protocol):
    """Chooses ``k`` candidate indices among those not ``excluded``.

    Args of ``pick``:
        scores: (n,) float64 acquisition scores over the whole pool, higher is
            better; None for initial designs, which use features alone.
        k: how many to choose.
        excluded: (n,) bool, True for measured, pending or failed candidates.
        features: (n, d) float64 pool features in the unit cube.
        rng: the campaign's random generator.
    Returns:
        (k,) int indices into the pool, distinct, none of them excluded.
    """

    def pick(
        self,
        scores: np.ndarray | None,
        k: int,
        excluded: np.ndarray,
        features: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray: ...


def _available(excluded: np.ndarray, k: int) -> np.ndarray:
    available = np.flatnonzero(~excluded)
    if k > available.shape[0]:
        raise ConfigurationError(
            f"selection: asked for {k} candidates but only {available.shape[0]} remain unmeasured"
        )
    return available


def _best_first(
    scores: np.ndarray, indices: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """The ``k`` best of ``indices`` (ascending; all of them when ``k`` is larger), by
    descending score, NaN last.

    When more candidates tie at the last place than there is room for, the ones taken are
    drawn at random: the order of the pool (often sorted by parameter value) must not
    decide between designs the model cannot tell apart, as it would for a forest, whose
    predictions are piecewise constant. Among the chosen, equal scores keep pool order.
    ``rng`` is drawn from only in that case, so choices without such a tie are the same
    as a plain sort's. Only those ``k`` are sorted: a partition finds them (a full sort
    of a million scores costs ten times as much).
    """
    values = np.nan_to_num(scores[indices], nan=-np.inf)
    if k < values.shape[0]:
        kth = np.partition(values, values.shape[0] - k)[values.shape[0] - k]
        above = np.flatnonzero(values > kth)
        tied = np.flatnonzero(values == kth)
        room = k - above.shape[0]
        if tied.shape[0] > room:
            tied = rng.choice(tied, size=room, replace=False)
        kept = np.sort(np.concatenate([above, tied]))
        indices, values = indices[kept], values[kept]
    return indices[np.argsort(-values, kind="stable")]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


@dataclass(frozen=True)
class TopK:
    """The k best-scoring available candidates (a tie for the last place drawn at random)."""

    name: str = "top"

    def pick(self, scores, k, excluded, features, rng) -> np.ndarray:
        available = _available(excluded, k)
        return _best_first(scores, available, k, rng)


@dataclass(frozen=True)
class KMeansDiversified:
    """Top-k made diverse: cluster the ``oversample * k`` best candidates into k
    groups with k-means and take the best of each group, so a batch does not
    spend all its experiments on one peak.
    """

    oversample: int = 10
    name: str = "kmeans"

    def __post_init__(self) -> None:
        # oversample x batch_size counts candidates: a fraction would fail only at the
        # first batch, after the initial design had been measured
        count = self.oversample
        if not is_whole_number(count) or count < 1:
            raise ConfigurationError(
                f"selector: oversample must be a whole number >= 1 (oversample x batch_size "
                f"of the best candidates are clustered), got {count!r}"
            )
        object.__setattr__(self, "oversample", int(count))  # numpy's too, for the store

    def pick(self, scores, k, excluded, features, rng) -> np.ndarray:
        available = _available(excluded, k)
        top = _best_first(scores, available, self.oversample * k, rng)
        if k == 1 or top.shape[0] == k:
            return top[:k]
        labels = KMeans(n_clusters=k, n_init=3, random_state=_seed(rng)).fit_predict(features[top])
        # `top` is best-first, so the first member of each cluster is its best.
        _, first = np.unique(labels, return_index=True)
        chosen = top[np.sort(first)]
        if chosen.shape[0] < k:  # identical features can leave clusters empty
            rest = top[~np.isin(top, chosen)]
            chosen = np.concatenate([chosen, rest[: k - chosen.shape[0]]])
        return chosen


@dataclass(frozen=True)
class KMeansDesign:
    """Initial design: k-means on the available candidates' features, then the
    candidate nearest each centroid: a training set spread over the pool as the
    data are spread.
    """

    name: str = "kmeans"

    def pick(self, scores, k, excluded, features, rng) -> np.ndarray:
        """With candidates already chosen (``excluded``: pending, measured or failed, as
        when an initial design is asked for one at a time), the pool is clustered into
        k more clusters than those; the clusters the chosen ones fall in are theirs, and
        the k clusters farthest from them give the new picks."""
        available = _available(excluded, k)
        points = features[available]
        taken = features[np.flatnonzero(excluded)]
        model = KMeans(n_clusters=k + len(taken), n_init=10, random_state=_seed(rng))
        model.fit(np.vstack([points, taken]) if len(taken) else points)
        centres = model.cluster_centers_
        if len(taken):
            free = np.setdiff1d(np.arange(len(centres)), model.labels_[len(points) :])
            _, reach = pairwise_distances_argmin_min(centres[free], taken)
            centres = centres[free[np.argsort(-reach, kind="stable")[:k]]]
        chosen: list[int] = []
        for centroid in centres:
            order = np.argsort(np.linalg.norm(points - centroid, axis=1), kind="stable")
            chosen.append(next(int(i) for i in order if int(i) not in chosen))
        return available[np.asarray(chosen, dtype=int)]


@dataclass(frozen=True)
class RandomDesign:
    """Initial design (or baseline): k available candidates uniformly at random."""

    name: str = "random"

    def pick(self, scores, k, excluded, features, rng) -> np.ndarray:
        available = _available(excluded, k)
        return rng.choice(available, size=k, replace=False)


@dataclass(frozen=True)
class FarthestPointDesign:
    """Initial design: start at a random candidate, then repeatedly add the candidate
    farthest from everything chosen or already measured (greedy max-min distance).
    """

    name: str = "farthest"

    def pick(self, scores, k, excluded, features, rng) -> np.ndarray:
        available = _available(excluded, k)
        measured = np.flatnonzero(excluded)
        points = features[available]
        if measured.shape[0]:
            _, nearest = pairwise_distances_argmin_min(points, features[measured])
            chosen = []
        else:
            first = int(rng.integers(available.shape[0]))
            chosen = [first]
            nearest = np.linalg.norm(points - points[first], axis=1)
        while len(chosen) < k:
            nearest = nearest.copy()
            nearest[chosen] = -1.0
            new = int(np.argmax(nearest))
            chosen.append(new)
            nearest = np.minimum(nearest, np.linalg.norm(points - points[new], axis=1))
        return available[np.asarray(chosen, dtype=int)]


BATCH_SELECTORS = {"top": TopK, "kmeans": KMeansDiversified}
INITIAL_DESIGNS = {"kmeans": KMeansDesign, "random": RandomDesign, "farthest": FarthestPointDesign}


def _resolve(spec: str | Selector, registry: dict, role: str) -> Selector:
    if isinstance(spec, str):
        if spec.lower() not in registry:
            raise ConfigurationError(
                f"{role}: unknown name '{spec}'; choose one of {list(registry)} "
                "or pass an object with pick(scores, k, excluded, features, rng)"
            )
        return registry[spec.lower()]()
    if not callable(getattr(spec, "pick", None)):
        raise ConfigurationError(f"{role}: {type(spec).__name__} has no pick(...) method")
    return spec


def resolve_selector(spec: str | Selector) -> Selector:
    """A batch selector from "top", "kmeans" or an object with ``pick``."""
    return _resolve(spec, BATCH_SELECTORS, "selector")


def resolve_initial_design(spec: str | Selector) -> Selector:
    """An initial design from "kmeans", "random", "farthest" or an object with ``pick``."""
    return _resolve(spec, INITIAL_DESIGNS, "initial_design")


def selector_options(selector: Any, registry: dict[str, type]) -> dict[str, Any] | None:
    """What a resumed campaign needs beside a selector's (or initial design's) name to
    build it again: None where the name builds it as it is, the settings that differ
    where the name builds its class (``KMeansDiversified(oversample=3)``), and
    ``{NOT_STORED: description}`` where no settings do (a class of the user's own)."""
    if isinstance(selector, str):
        return None
    kind = registry.get(str(getattr(selector, "name", "")).lower())
    if kind is None or type(selector) is not kind or not is_dataclass(selector):
        return {NOT_STORED: type(selector).__name__}
    try:
        mine, default = _settings(selector), _settings(kind())
    except (TypeError, ValueError):
        return {NOT_STORED: repr(selector)}
    changed = {k: v for k, v in mine.items() if default.get(k) != v}
    return changed or None


def rebuild_selector(
    name: str, options: dict[str, Any], registry: dict[str, type], role: str
) -> Selector:
    """The selector (or initial design) ``name`` builds, with the stored ``options`` of
    :func:`selector_options`.

    Raises:
        ConfigurationError: the options describe one that settings cannot rebuild.
    """
    if NOT_STORED in options or name.lower() not in registry:
        raise ConfigurationError(
            f"the campaign's {role} ({options.get(NOT_STORED, name)}) cannot be rebuilt from "
            f"its name '{name}'; pass it again: Campaign.resume(store, {role}=...)"
        )
    try:
        return registry[name.lower()](**options)
    except TypeError as error:
        raise ConfigurationError(f"{role} '{name}': stored options {options}: {error}") from None


def _settings(selector: Any) -> dict[str, Any]:
    """A dataclass selector's fields but its name, as JSON gives them back."""
    values = {f.name: getattr(selector, f.name) for f in fields(selector) if f.name != "name"}
    return json.loads(json.dumps(values))
