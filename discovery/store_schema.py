"""The store's schema, its forward migrations, and the software versions it records."""

from __future__ import annotations

import platform
from importlib import metadata

SCHEMA_VERSION = 5
#: Packages whose versions are recorded with a campaign.
RECORDED_PACKAGES = (
    "discovery",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "gpytorch",
    "botorch",
)

_SCHEMA_V1 = """
CREATE TABLE campaign (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    config_json TEXT NOT NULL,
    objective TEXT NOT NULL,
    maximize INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    pool_fingerprint TEXT NOT NULL,
    pool_options_json TEXT NOT NULL,
    pool_csv TEXT NOT NULL,
    pool_dtypes_json TEXT NOT NULL,
    versions_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE candidates (
    position INTEGER PRIMARY KEY,
    candidate_id TEXT NOT NULL UNIQUE
);
CREATE TABLE iterations (
    iteration INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    surrogate TEXT,
    acquisition TEXT,
    fit_seconds REAL,
    selection_seconds REAL,
    chosen_json TEXT NOT NULL,
    rng_state_json TEXT NOT NULL,
    surrogate_state_json TEXT,
    diagnostics_json TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    iteration INTEGER REFERENCES iterations(iteration),
    candidate_id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    score REAL,
    handle_json TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    error_class TEXT,
    error_message TEXT
);
CREATE TABLE attempts (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(job_id),
    error_class TEXT NOT NULL,
    error_message TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE measurements (
    measurement_id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER UNIQUE REFERENCES jobs(job_id),
    candidate_id TEXT NOT NULL UNIQUE,
    value REAL NOT NULL,
    result_json TEXT NOT NULL,
    parameters_json TEXT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
# v2: values an oracle computes once for every job (e.g. elemental reference energies).
_ORACLE_CACHE_V2 = """
CREATE TABLE oracle_cache (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
# v3: what a portfolio policy did each iteration (arm, probabilities, credits, its state).
_POLICY_V3 = """
ALTER TABLE iterations ADD COLUMN policy_json TEXT;
"""
# v4: campaigns over a declared space: the space's JSON, and each job's parameter values
# (a continuous space's candidates exist only as the jobs that measure them).
_SPACE_V4 = """
ALTER TABLE campaign ADD COLUMN space_json TEXT;
ALTER TABLE jobs ADD COLUMN parameters_json TEXT;
"""
# v5: a measurement of several properties may lack the first objective (its models train
# without it), so the value column, which holds the first objective, may be empty.
_NULLABLE_VALUE_V5 = """
CREATE TABLE measurements_v5 (
    measurement_id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER UNIQUE REFERENCES jobs(job_id),
    candidate_id TEXT NOT NULL UNIQUE,
    value REAL,
    result_json TEXT NOT NULL,
    parameters_json TEXT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO measurements_v5 (measurement_id, job_id, candidate_id, value, result_json,
    parameters_json, source, created_at)
    SELECT measurement_id, job_id, candidate_id, value, result_json, parameters_json, source,
    created_at FROM measurements;
DROP TABLE measurements;
ALTER TABLE measurements_v5 RENAME TO measurements;
"""
#: Forward migrations: MIGRATIONS[v] takes a store from schema v to v + 1.
MIGRATIONS: dict[int, str] = {
    0: _SCHEMA_V1,
    1: _ORACLE_CACHE_V2,
    2: _POLICY_V3,
    3: _SPACE_V4,
    4: _NULLABLE_VALUE_V5,
}


def package_versions() -> dict[str, str]:
    """Versions of Python, discovery and its main dependencies."""
    versions = {"python": platform.python_version()}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
