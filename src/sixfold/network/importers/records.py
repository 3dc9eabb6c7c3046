"""Helpers for importers that read JSON records (Slack, Mattermost)."""

from __future__ import annotations

import json
import re
from typing import Any

from sixfold.network.importers.base import ProblemLog

Row = tuple[int, str, str, str, float, str | None]


def parse_json(data: bytes, where: str, log: ProblemLog) -> Any:
    """Decoded JSON, or None after logging why it could not be read."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        log.add(where, f"not valid UTF-8 at byte {error.start}; skipped")
    except (json.JSONDecodeError, RecursionError) as error:
        log.add(where, f"not valid JSON ({error}); skipped")
    return None


def mentioned(text: object, pattern: re.Pattern[str]) -> list[str]:
    """Who a message mentions; the text itself is read here and never kept."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(pattern.findall(text)))


def as_seconds(value: object, *, milliseconds: bool = False) -> int | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number / 1000) if milliseconds else int(number)
