"""A seeded campaign run as a subprocess by test_crash.py, to be killed and resumed.

    python tests/crash_campaign.py STORE SIDE_LOG [--kill-at N] [--seconds S]

Every evaluation takes S seconds and appends "key,candidate_id" to SIDE_LOG
(flushed and synced) before it returns; with --kill-at N the process SIGKILLs
itself right after the N-th evaluation, between the oracle's work and its record.
"""

import argparse
import os
import signal
import time

import numpy as np
import pandas as pd

from discovery import Campaign, CandidatePool, FunctionOracle

BUDGET = 24
RNG = np.random.default_rng(7)
FRAME = pd.DataFrame(RNG.random((100, 3)), columns=["a", "b", "c"])
FRAME["y"] = np.sin(4 * FRAME["a"]) - (FRAME["b"] - 0.4) ** 2 + 0.3 * FRAME["c"]


def make_campaign(store: str, side_log: str, kill_at: int | None, seconds: float) -> Campaign:
    def experiment(candidate):
        time.sleep(seconds)  # an experiment takes time: kills land inside it too
        with open(side_log, "a") as log:
            log.write(f"{candidate.idempotency_key},{candidate.id}\n")
            log.flush()
            os.fsync(log.fileno())
        if kill_at is not None and sum(1 for _ in open(side_log)) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return float(FRAME.loc[int(candidate.id), "y"])

    pool = CandidatePool.from_frame(FRAME, objective="y")
    return Campaign(
        pool,
        FunctionOracle(experiment, output="y"),
        "y",
        surrogate="forest",
        acquisition="ei",
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
    args = parser.parse_args()
    make_campaign(args.store, args.side_log, args.kill_at, args.seconds).run(progress=False)
