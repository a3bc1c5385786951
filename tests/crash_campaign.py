"""A seeded campaign run as a subprocess by test_crash.py, to be killed and resumed.

    python tests/crash_campaign.py STORE SIDE_LOG [--kill-at N] [--seconds S] [--space]
        [--pareto] [--hold-until PATH]

Every evaluation takes S seconds and appends "key,candidate_id" to SIDE_LOG
(flushed and synced) before it returns; with --kill-at N the process SIGKILLs
itself right after the N-th evaluation, between the oracle's work and its record.
With --space the campaign proposes points of a continuous space with a GP instead
of choosing from a pool, two experiments at a time. With --pareto it measures two
objectives, y and z, and seeks their Pareto front with a GP (qLogNEHVI). With
--hold-until PATH no experiment starts before PATH exists (a report being written, say),
so that whatever makes PATH sees the campaign running, however slowly it starts.
"""

import argparse
import os
import signal
import time

import numpy as np
import pandas as pd

from discovery import Campaign, CandidatePool, FunctionOracle, Objective, Real, Space

BUDGET = 24
RNG = np.random.default_rng(7)
FRAME = pd.DataFrame(RNG.random((100, 3)), columns=["a", "b", "c"])
FRAME["y"] = np.sin(4 * FRAME["a"]) - (FRAME["b"] - 0.4) ** 2 + 0.3 * FRAME["c"]
FRAME["z"] = np.cos(3 * FRAME["b"]) - (FRAME["a"] - 0.6) ** 2


SPACE = Space([Real("a", 0, 1), Real("b", 0, 1), Real("c", 0, 1)])


def truth(point: dict) -> float:
    return float(np.sin(4 * point["a"]) - (point["b"] - 0.4) ** 2 + 0.3 * point["c"])


def make_campaign(
    store: str,
    side_log: str,
    kill_at: int | None,
    seconds: float,
    space: bool = False,
    pareto: bool = False,
    hold_until: str | None = None,
) -> Campaign:
    def experiment(candidate):
        while hold_until is not None and not os.path.exists(hold_until):
            time.sleep(0.05)
        time.sleep(seconds)  # an experiment takes time: kills land inside it too
        with open(side_log, "a") as log:
            log.write(f"{candidate.idempotency_key},{candidate.id}\n")
            log.flush()
            os.fsync(log.fileno())
        if kill_at is not None and sum(1 for _ in open(side_log)) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if space:
            return truth(candidate.parameters)
        if pareto:
            return {k: float(FRAME.loc[int(candidate.id), k]) for k in ("y", "z")}
        return float(FRAME.loc[int(candidate.id), "y"])

    pool = SPACE if space else CandidatePool.from_frame(FRAME[["a", "b", "c"]])
    aims = (
        {"objectives": [Objective("y"), Objective("z")]}
        if pareto
        else {"objective": "y", "acquisition": "ei"}
    )
    return Campaign(
        pool,
        FunctionOracle(experiment, output="y"),
        **aims,
        surrogate="gp" if space or pareto else "forest",
        batch_size=2,
        n_initial=4,
        budget=BUDGET,
        seed=11,
        store=store,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("side_log")
    parser.add_argument("--kill-at", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=0.03)
    parser.add_argument("--space", action="store_true")
    parser.add_argument("--pareto", action="store_true")
    parser.add_argument("--hold-until", default=None)
    args = parser.parse_args()
    campaign = make_campaign(
        args.store,
        args.side_log,
        args.kill_at,
        args.seconds,
        args.space,
        args.pareto,
        args.hold_until,
    )
    campaign.run(progress=False)
