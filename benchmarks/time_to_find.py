"""Experiments until a campaign first measures a known good candidate, per strategy.

Shared by the benchmarks of simulated worlds whose good candidates are known in
advance (the top 5 % of alloys, the gaps within 0.05 eV of a goal): each
strategy runs for several seeds and the table shows, per seed, the experiment
that first measured a good candidate and how many good ones the budget found.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from discovery import Campaign

#: The campaign as its file defines it, against random search (random initial design too).
CAMPAIGN_AGAINST_RANDOM = {
    "the campaign's": {},
    "random": {"acquisition": "random", "initial_design": "random"},
}


def compare(
    make_campaign: Callable[..., Campaign],
    good: set[str],
    strategies: dict[str, dict],
    seeds: int,
    budget: int,
    title: str,
) -> dict[str, list[float]]:
    """Run every strategy for ``seeds`` seeds and print the table; the first hits by strategy.

    Args:
        make_campaign: ``make_campaign(seed, **options)`` of the campaign file.
        good: the ids that count as found.
        strategies: name -> options of ``make_campaign``.
        seeds, budget: runs per strategy and experiments per run.
        title: the table's title.
    """
    table = Table(title=title)
    for column in ("strategy", "first good at, per seed", "median", "good found", "s / experiment"):
        table.add_column(column, justify="right")
    first_hits = {}
    for name, options in strategies.items():
        hits, found, seconds = [], [], []
        for seed in range(seeds):
            result = make_campaign(seed, **options).replace(budget=budget).run(progress=False)
            hit = result.first_found(good)
            hits.append(np.nan if hit is None else float(hit))
            found.append(len(good & set(result.measured["candidate_id"])))
            seconds.extend(_oracle_seconds(result.measured["result_json"]))
            print(f"{name:30s} seed {seed}: first good at {hit}, {found[-1]} found", flush=True)
        first_hits[name] = hits
        table.add_row(
            name,
            " ".join("-" if np.isnan(h) else str(int(h)) for h in hits),
            f"{np.nanmedian(hits):.0f}" if not np.isnan(hits).all() else "-",
            f"median {np.median(found):.0f} of {len(good)}",
            f"{np.mean(seconds):.3f}" if seconds else "-",
        )
    Console().print(table)
    return first_hits


def _oracle_seconds(results) -> list[float]:
    """Seconds per experiment where the oracle reported them (the ASE oracle does)."""
    parsed = [json.loads(text) for text in results]
    return [r["seconds"] for r in parsed if "seconds" in r]


def command_line(
    description: str,
    make_campaign: Callable[..., Campaign],
    good: Callable[[], set[str]],
    budget: int,
    title: Callable[[set[str]], str],
    strategies: dict[str, dict] = CAMPAIGN_AGAINST_RANDOM,
) -> None:
    """Parse ``--seeds`` and ``--budget``, then :func:`compare` the strategies."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=budget)
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the pools' duplicate-feature notice
    ids = good()
    compare(make_campaign, ids, strategies, args.seeds, args.budget, title(ids))
