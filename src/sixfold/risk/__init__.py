"""Sixfold's risk engine: catches tone-deaf, leaking and hostile posts before they go out.

A pure library (no database, no web). Typical use::

    from sixfold.risk import Context, Policy, check_text
    verdict = check_text("Stay safe out there! 20% off everything today", Context())
    verdict.verdict  # VerdictLevel.OK / REVIEW / BLOCK, with findings pointing at spans

A post's image descriptions go in ``alt_texts=[...]`` (``BatchItem.alt_texts`` in a batch); a
finding made in one has ``location`` ``alt_text`` and the image's index in ``image``.
"""

from sixfold.risk.document import Document, View
from sixfold.risk.engine import BatchItem, Engine, check_batch, check_text, default_engine
from sixfold.risk.events import Event, EventRegister, RegisterError
from sixfold.risk.lexicon import Hit, LexiconIndex
from sixfold.risk.model import (
    Context,
    Finding,
    Location,
    Scanner,
    Severity,
    Verdict,
    VerdictLevel,
)
from sixfold.risk.policy import Policy, PolicyError
from sixfold.risk.registry import SCANNER_TYPES, RegistryError, ScannerSpec, load_registry

__all__ = [
    "SCANNER_TYPES",
    "BatchItem",
    "Context",
    "Document",
    "Engine",
    "Event",
    "EventRegister",
    "Finding",
    "Hit",
    "LexiconIndex",
    "Location",
    "Policy",
    "PolicyError",
    "RegisterError",
    "RegistryError",
    "Scanner",
    "ScannerSpec",
    "Severity",
    "Verdict",
    "VerdictLevel",
    "View",
    "check_batch",
    "check_text",
    "default_engine",
    "load_registry",
]
