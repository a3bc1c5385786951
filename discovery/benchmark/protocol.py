"""How a benchmark run starts and proceeds: initial designs, batch size, the "good" set.

Liang et al. (2021), "Benchmarking the performance of Bayesian optimization across
multiple experimental materials science domains" (npj Comput. Mater. 7, 188): each run
starts from 2 designs drawn at random from the pool with one of the authors' run seeds
(``random.seed(seed); random.sample(range(N), 2)``), then measures one design per
learning cycle; the "good" designs are the best 5 % of the pool, and the initial
designs count as cycles 1 and 2. A batch protocol starts from ``k`` random designs
drawn the same way and measures ``k`` per cycle.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from discovery.benchmark.catalogue import DATA
from discovery.exceptions import ConfigurationError

SEEDS_FILE = DATA / "crossed_barrel" / "protocol_seeds.csv"
#: Runs past the authors' 50 seeds take seeds from this offset on (run 50 -> seed 100050).
EXTRA_SEED_OFFSET = 100_000


@dataclass(frozen=True)
class Protocol:
    """A benchmark protocol.

    Attributes:
        name: "liang2021" or "batchK".
        n_initial: random designs each run starts from.
        batch_size: designs measured per cycle after them.
        good_fraction: the best fraction of the pool that counts as "good".
    """

    name: str
    n_initial: int
    batch_size: int
    good_fraction: float = 0.05

    def run_seed(self, run: int) -> int:
        """The seed of run ``run`` (0-based): the authors' list first, then a fixed offset."""
        seeds = published_run_seeds()
        return seeds[run] if run < len(seeds) else EXTRA_SEED_OFFSET + run

    def initial_design(self, run: int, pool_size: int) -> list[int]:
        """The pool indices run ``run`` starts from, as the authors' code draws them.

        Raises:
            ConfigurationError: the pool has fewer designs than the protocol starts from.
        """
        self.check_fits(pool_size, "the dataset")
        state = random.Random(self.run_seed(run))
        return state.sample(list(range(pool_size)), self.n_initial)

    def check_fits(self, pool_size: int, what: str) -> None:
        """Raise unless a pool of ``pool_size`` designs can run this protocol."""
        if self.n_initial + self.batch_size > pool_size:
            raise ConfigurationError(
                f"protocol '{self.name}' needs {self.n_initial} initial designs and "
                f"{self.batch_size} per cycle, more than {what} holds ({pool_size} designs)"
            )


@cache
def published_run_seeds() -> tuple[int, ...]:
    """The 50 run seeds of Liang et al., in order."""
    table = pd.read_csv(SEEDS_FILE)
    return tuple(int(s) for s in table.loc[table["role"] == "run_initial_design", "seed"])


def resolve_protocol(name: str) -> Protocol:
    """ "liang2021" (2 initial designs, 1 per cycle) or "batchK" (K initial, K per cycle).

    Raises:
        ConfigurationError: an unknown name or a batch size below 1.
    """
    if name == "liang2021":
        return Protocol("liang2021", n_initial=2, batch_size=1)
    match = re.fullmatch(r"batch(\d+)", name)
    if match is None:
        raise ConfigurationError(
            f"unknown protocol '{name}': expected 'liang2021' or 'batchK' (e.g. 'batch5')"
        )
    size = int(match.group(1))
    if size < 1:
        raise ConfigurationError(f"protocol '{name}': the batch size must be at least 1")
    return Protocol(name, n_initial=size, batch_size=size)
