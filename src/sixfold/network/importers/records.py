"""Helpers for importers that read JSON records (Slack, Mattermost)."""

from __future__ import annotations

import json
import re
from typing import Any

from sixfold.network.importers.base import ProblemLog
from sixfold.network.importers.timestamps import in_supported_range

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
    """Unix seconds from a number or numeric text; None if unreadable or out of range."""
    try:
        number = float(value)  # type: ignore[arg-type]
    # float() of an integer with hundreds of digits overflows instead of failing as a ValueError.
    except (TypeError, ValueError, OverflowError):
        return None
    seconds = number / 1000 if milliseconds else number
    # NaN and the infinities compare false with everything, so they fail the range test too.
    return int(seconds) if in_supported_range(seconds) else None
