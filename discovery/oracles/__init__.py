"""Oracles: what runs an experiment. submit -> JSON handle, poll -> Status, cancel."""

from discovery.oracles.ase import AseOracle
from discovery.oracles.base import JOB_STATES, Oracle, Status
from discovery.oracles.function import FunctionOracle, LookupOracle

__all__ = ["JOB_STATES", "AseOracle", "FunctionOracle", "LookupOracle", "Oracle", "Status"]
