"""Oracles: what runs an experiment. submit -> JSON handle, poll -> Status, cancel."""

from discovery.oracles.base import JOB_STATES, Oracle, Status
from discovery.oracles.function import FunctionOracle, LookupOracle

__all__ = ["JOB_STATES", "FunctionOracle", "LookupOracle", "Oracle", "Status"]
