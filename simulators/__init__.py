"""Simulated worlds for campaigns: truth functions and emulated experiments."""
