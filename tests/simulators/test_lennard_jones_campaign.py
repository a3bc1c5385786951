"""The Lennard-Jones world inside campaigns: what the summary shows, and noisy
measurements that do not depend on where they run."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from discovery import Candidate, FunctionOracle
from discovery.executors import resolve_executor
from simulators.lennard_jones import LennardJonesWorld, lennard_jones_energy
from tests.oracles.conformance import wait_for

CAMPAIGN = Path(__file__).resolve().parents[2] / "campaigns" / "lennard_jones.py"


def load_campaign():
    spec = importlib.util.spec_from_file_location("campaign_lennard_jones", CAMPAIGN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_summary_shows_the_separation_of_the_best_measurement():
    module = load_campaign()
    result = module.make_campaign().replace(budget=5).run(progress=False)
    line = module.summarize(result)["closest r to the minimum"]
    r = float(line.split()[0])
    assert 1.0 <= r <= 2.0
    assert lennard_jones_energy(r) == pytest.approx(result.best["energy"], abs=1e-9)
    assert "true minimum at r = 1.1225" in line


def test_a_noisy_world_measures_the_same_values_on_a_process_pool_as_inline():
    world = LennardJonesWorld(noise=0.05, seed=3)
    candidates = [Candidate(str(i), {"r": r}) for i, r in enumerate(np.linspace(1.0, 2.0, 6))]
    executor = resolve_executor("process", workers=2)
    try:
        oracle = FunctionOracle(world, output="energy", executor=executor)
        handles = [oracle.submit(c) for c in candidates]
        pooled = [wait_for(oracle, h, timeout=60).result["energy"] for h in handles]
    finally:
        executor.shutdown()
    inline = [world(c) for c in candidates]
    assert pooled == pytest.approx(inline, abs=1e-12)
    noise = np.array(inline) - lennard_jones_energy(np.linspace(1.0, 2.0, 6))
    assert len(np.unique(noise.round(12))) == len(candidates)  # a draw per measurement
