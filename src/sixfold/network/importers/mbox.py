"""mbox importer: From, To, Cc, Date and Message-ID headers only; bodies are never read.

The file is scanned line by line; body lines are skipped as they stream past, so neither a
huge attachment nor a huge mailbox is ever held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from sixfold.network.importers.base import (
    ImportLimits,
    InteractionImport,
    ProblemLog,
    check_size,
)
from sixfold.network.importers.lines import bounded_lines
from sixfold.network.importers.records import Row
from sixfold.network.importers.timestamps import SUPPORTED_YEARS, parse_rfc2822


def load_mbox(path: Path, limits: ImportLimits | None = None) -> InteractionImport:
    limits = limits or ImportLimits()
    check_size(path, limits)
    log = ProblemLog(path.name)
    parser = BytesHeaderParser()
    rows: list[Row] = []
    with path.open("rb") as handle:
        for line_number, header in _header_blocks(handle, limits, log):
            rows.extend(_message_rows(parser.parsebytes(header), f"{path.name}:{line_number}", log))
    return InteractionImport.from_rows(rows, log)


def _header_blocks(
    handle: object, limits: ImportLimits, log: ProblemLog
) -> Iterator[tuple[int, bytes]]:
    """Yield (line of the 'From ' separator, header bytes) for each message."""
    start, header, in_header, too_big = 0, bytearray(), False, False
    for number, line in bounded_lines(handle, limits.max_line_bytes):  # type: ignore[arg-type]
        if line is not None and line.startswith(b"From "):
            if in_header and not too_big:
                yield start, bytes(header)
            start, header, in_header, too_big = number, bytearray(), True, False
            continue
        if not in_header:
            continue
        if line is None or len(header) > limits.max_header_bytes:
            if not too_big:
                log.add(start, "header block too large; message skipped")
            too_big = True
        elif not line.strip():
            if not too_big:
                yield start, bytes(header)
            in_header = False
        else:
            header.extend(line)
    if in_header and not too_big:
        yield start, bytes(header)


def _message_rows(headers: Message, where: str, log: ProblemLog) -> list[Row]:
    try:
        senders = _addresses(headers.get_all("From", []))
        recipients = _addresses(headers.get_all("To", []) + headers.get_all("Cc", []))
    # The address parser recurses once per nested comment: "From: ((((..." of a few
    # thousand brackets exhausts the stack.
    except RecursionError:
        log.add(where, "From, To or Cc nested too deeply to read; message skipped")
        return []
    when = parse_rfc2822(str(headers.get("Date", "")))
    if not senders or when is None:
        log.add(
            where,
            "message without a readable From or Date (dates must fall in the years "
            f"{SUPPORTED_YEARS}); skipped",
        )
        return []
    message_id = str(headers.get("Message-ID", "")).strip() or f"mbox:{where}"
    return [
        (when, senders[0], target, "email", 1.0, message_id) for target in dict.fromkeys(recipients)
    ]


def _addresses(values: list[Any]) -> list[str]:
    return [address.lower() for _, address in getaddresses(values) if "@" in address]
