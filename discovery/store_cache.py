"""The store's oracle cache: values an oracle computes once and every job reuses.

An ASE oracle's elemental reference energies are the example: computed before
the first job, kept with the campaign, and read back by a resumed run instead of
being computed again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from datetime import datetime, timezone
from typing import Any

from discovery.store import CampaignStore


class OracleCache(MutableMapping):
    """A JSON-valued mapping kept in the store's ``oracle_cache`` table."""

    def __init__(self, store: CampaignStore) -> None:
        self.store = store

    def __getitem__(self, key: str) -> Any:
        with self.store.snapshot() as db:
            row = db.execute("SELECT value_json FROM oracle_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return json.loads(row[0])

    def __setitem__(self, key: str, value: Any) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO oracle_cache (key, value_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, "
                "updated_at = excluded.updated_at",
                (key, json.dumps(value), datetime.now(timezone.utc).isoformat()),
            )

    def __delitem__(self, key: str) -> None:
        with self.store.transaction() as db:
            if db.execute("DELETE FROM oracle_cache WHERE key = ?", (key,)).rowcount == 0:
                raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        with self.store.snapshot() as db:
            keys = [row[0] for row in db.execute("SELECT key FROM oracle_cache ORDER BY key")]
        return iter(keys)

    def __len__(self) -> int:
        with self.store.snapshot() as db:
            return int(db.execute("SELECT COUNT(*) FROM oracle_cache").fetchone()[0])
