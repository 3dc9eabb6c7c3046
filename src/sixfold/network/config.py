"""The one settings object for an analysis; its defaults are part of the documented contract."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisConfig:
    min_interactions: float = 2.0
    broadcast_recipients: int = 25
    since: int | None = None  # Unix seconds, inclusive
    until: int | None = None  # Unix seconds, exclusive
    exact_betweenness_limit: int = 20_000
    betweenness_samples: int = 256
    betweenness_batches: int = 8
    min_group_size: int = 5
    resolutions: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    window_days: int = 28
    window_step_days: int = 28
    mentor_candidates: int = 20
    seed: int = 7

    def __post_init__(self) -> None:
        if self.min_group_size < 3:
            raise ValueError("min_group_size is never below 3: smaller groups identify people")
        if self.min_interactions <= 0:
            raise ValueError("min_interactions must be positive")
        if self.betweenness_batches < 2 or self.betweenness_samples < self.betweenness_batches:
            raise ValueError("need at least 2 batches and one sample per batch")
