"""Builds scanners from the registry, which is data (registry.yaml), not code.

Scanner types are looked up in an explicit table rather than imported by dotted path from the
file, so a registry file can only choose among the scanners shipped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sixfold.risk import scanners
from sixfold.risk.lexicon import LexiconIndex
from sixfold.risk.model import Scanner

SCANNER_TYPES: Mapping[str, type[scanners.BaseScanner]] = {
    cls.__name__: cls
    for cls in (
        scanners.SensitiveEventScanner,
        scanners.TragedyPromotionScanner,
        scanners.ProfanityScanner,
        scanners.PersonalAttackScanner,
        scanners.ConfidentialScanner,
        scanners.PersonalDataScanner,
        scanners.SecretScanner,
        scanners.HotTopicScanner,
        scanners.HarmfulMessageScanner,
        scanners.OffBrandScanner,
        scanners.LinkScanner,
        scanners.HygieneScanner,
    )
}


class RegistryError(ValueError):
    """The registry file names an unknown scanner type or is malformed."""


@dataclass(frozen=True, slots=True)
class ScannerSpec:
    """One registry entry: a scanner's name, its type and its options."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


def load_registry(path: Path | str | None = None) -> list[ScannerSpec]:
    """Read a registry file; without a path, the built-in registry.yaml."""
    if path is None:
        text = (resources.files("sixfold.risk") / "registry.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    entries = data.get("scanners") if isinstance(data, Mapping) else None
    if not isinstance(entries, Sequence):
        raise RegistryError("the registry needs a 'scanners' list")
    return [_spec(entry) for entry in entries]


def _spec(entry: object) -> ScannerSpec:
    if not isinstance(entry, Mapping) or "name" not in entry or "type" not in entry:
        raise RegistryError(f"registry entry {entry!r} needs 'name' and 'type'")
    if entry["type"] not in SCANNER_TYPES:
        raise RegistryError(f"unknown scanner type {entry['type']!r}")
    return ScannerSpec(str(entry["name"]), str(entry["type"]), dict(entry.get("options") or {}))


def build_scanners(specs: Sequence[ScannerSpec], index: LexiconIndex) -> list[Scanner]:
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise RegistryError(f"scanner names must be unique: {names}")
    return [
        SCANNER_TYPES[spec.type](name=spec.name, index=index, options=spec.options)
        for spec in specs
    ]
