"""The points of a declared space that a campaign has chosen so far, seen as a pool.

A finite pool knows every candidate up front; a continuous space has a candidate
only once the campaign proposes it. ``SpacePoints`` collects those, in the order
they were chosen, with the interface the loop, the dispatcher and the store use
for a pool (ids, features, ``index_of``, ``candidate``, ``encode``), so both
kinds of campaign share one loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from discovery.exceptions import PoolError
from discovery.search_space import Space
from discovery.space import Candidate


class SpacePoints:
    """The chosen points of a :class:`~discovery.search_space.Space`, growing as it goes.

    Attributes:
        space: the space the points lie in.
        ids: (n,) ids derived from each point's values.
        features: (n, d) float64 features of the points.
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        self.ids = np.empty(0, dtype=object)
        self.features = np.empty((0, space.n_features))
        self._points: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    @classmethod
    def of_jobs(cls, space: Space, jobs: list[Any]) -> SpacePoints:
        """The points of a stored campaign's jobs, in the order they were chosen."""
        points = cls(space)
        points.add([job.parameters for job in jobs])
        return points

    @property
    def parameter_columns(self) -> list[str]:
        return self.space.names

    @property
    def feature_names(self) -> list[str]:
        return self.space.feature_names

    def __len__(self) -> int:
        return len(self._points)

    def __contains__(self, candidate_id: object) -> bool:
        return str(candidate_id) in self._index

    def add(self, points: list[Mapping[str, Any]]) -> np.ndarray:
        """Register points (already checked against the space); their indices.

        A point already registered keeps its index.
        """
        indices, new = [], []
        for point in points:
            point = self.space.canonical(point)
            candidate_id = self.space.candidate_id(point)
            if candidate_id not in self._index:
                self._index[candidate_id] = len(self._points)
                self._points.append(point)
                new.append(point)
            indices.append(self._index[candidate_id])
        if new:
            self.ids = np.asarray([self.space.candidate_id(p) for p in self._points], dtype=object)
            self.features = np.vstack([self.features, self.space.encode(new)])
        return np.asarray(indices, dtype=int)

    def index_of(self, candidate_id: str) -> int:
        try:
            return self._index[str(candidate_id)]
        except KeyError:
            raise PoolError(f"space: no chosen point has the id '{candidate_id}'") from None

    def point(self, index: int) -> dict[str, Any]:
        return dict(self._points[index])

    def candidate(self, index: int) -> Candidate:
        return Candidate(id=str(self.ids[index]), parameters=self.point(index))

    def encode(self, parameters: pd.DataFrame) -> np.ndarray:
        """Features of points given as a DataFrame's rows (told measurements)."""
        return self.space.encode(parameters)

    def fingerprint(self) -> str:
        return self.space.fingerprint()
