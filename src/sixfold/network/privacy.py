"""Privacy: keyed-hash pseudonyms and the minimum size of a group that may be shown.

Pseudonyms are HMAC-SHA256 of the identifier under a secret key: without the key they cannot be
reversed by hashing guessed names, and the same key applied to the org chart and to the
interactions yields the same pseudonyms, so joins still work.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from sixfold.network.orgchart import OrgChart, Person, build_orgchart

MIN_KEY_BYTES = 16


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"pseudonymisation key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def __call__(self, identifier: str) -> str:
        if not identifier:
            return ""
        # E-mail addresses are case-insensitive; ids are not. Normalising the same way on both
        # sides is what keeps the org chart and the interactions joinable.
        normal = identifier.strip().lower() if "@" in identifier else identifier.strip()
        digest = hmac.new(self._key, normal.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"p_{digest[:20]}"

    def chart(self, chart: OrgChart) -> OrgChart:
        people = [
            Person(self(p.id), "", self(p.email), p.title, p.department, self(p.manager_id))
            for p in chart.people
        ]
        return build_orgchart(people)

    def interactions(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Replace source and target, hashing each distinct identifier once."""
        names = pl.concat([frame["source"], frame["target"]]).unique().to_list()
        mapping = {name: self(name) for name in names}
        return frame.with_columns(
            pl.col("source").replace_strict(mapping, return_dtype=pl.String),
            pl.col("target").replace_strict(mapping, return_dtype=pl.String),
        )


def suppressed(size: int, min_group_size: int) -> bool:
    """True when a group is too small to show without pointing at individuals."""
    return size < min_group_size
