"""The organisation's policy: its confidential terms and how findings turn into a verdict.

Default policy (documented in docs/risk.md): a finding's severity decides its effect, so any
``block`` finding blocks the post, any ``review`` finding sends it to review, and ``info`` findings
are shown but never hold a post back. ``verdicts`` overrides that per category, for example
``hot_topic: ok`` for a campaigning organisation or ``profanity: block`` for a children's brand.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from sixfold.risk.lexicon import LexiconIndex
from sixfold.risk.model import Finding, Severity, Verdict, VerdictLevel
from sixfold.risk.yamlfile import read_yaml

_SEVERITY_VERDICT = {
    Severity.INFO: VerdictLevel.OK,
    Severity.REVIEW: VerdictLevel.REVIEW,
    Severity.BLOCK: VerdictLevel.BLOCK,
}
# Accepted spellings of the override section, so hand-written policy files are forgiving.
_OVERRIDE_KEYS = ("verdicts", "overrides", "categories")
_LIST_KEYS = ("confidential_terms", "allowed_domains", "public_contacts", "disabled_scanners")
CONFIDENTIAL_LEXICON = "confidential_terms"
_ORDER = operator.attrgetter("start", "end", "scanner")
# Verdicts are immutable, so every post without findings can share one.
_NOTHING = Verdict(verdict=VerdictLevel.OK, score=0.0, findings=())


class PolicyError(ValueError):
    """The policy file is malformed; the message says which key."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Rules of one organisation. Immutable: build a new one to change it."""

    confidential_terms: tuple[str, ...] = ()
    verdicts: Mapping[str, VerdictLevel] = field(default_factory=dict)
    allowed_domains: tuple[str, ...] = ()
    public_contacts: tuple[str, ...] = ()
    disabled_scanners: tuple[str, ...] = ()
    brand_account: bool = True
    phone_region: str = "US"
    unknown_keys: tuple[str, ...] = ()
    terms_index: LexiconIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per policy, so every post checked under it shares the automaton.
        index = LexiconIndex({CONFIDENTIAL_LEXICON: self.confidential_terms})
        object.__setattr__(self, "terms_index", index)

    @classmethod
    def from_data(cls, data: object) -> Policy:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise PolicyError("the policy must be a YAML mapping")
        options: dict[str, Any] = {key: _string_list(data, key) for key in _LIST_KEYS}
        options["verdicts"] = _overrides(data)
        if "brand_account" in data:
            if not isinstance(data["brand_account"], bool):  # "false" in quotes is true
                raise PolicyError("brand_account: expected true or false, without quotes")
            options["brand_account"] = data["brand_account"]
        if "phone_region" in data:
            options["phone_region"] = _region(data["phone_region"])
        known = {*_LIST_KEYS, *_OVERRIDE_KEYS, "brand_account", "phone_region"}
        options["unknown_keys"] = tuple(sorted(str(k) for k in data if k not in known))
        return cls(**options)

    @classmethod
    def from_yaml(cls, path: Path | str) -> Policy:
        try:
            data = read_yaml(path)
        except ValueError as error:  # also a file that is not UTF-8
            raise PolicyError(f"{path}: not valid YAML ({error})") from error
        return cls.from_data(data)

    def level_of(self, finding: Finding) -> VerdictLevel:
        """The verdict one finding asks for under this policy."""
        override = self.verdicts.get(finding.category) or self.verdicts.get(finding.scanner)
        return override if override is not None else _SEVERITY_VERDICT[finding.severity]

    def decide(self, findings: Iterable[Finding]) -> Verdict:
        """Combine findings into the post's verdict: the strongest level any finding asks for."""
        if not findings:
            return _NOTHING
        ordered = tuple(sorted(findings, key=_ORDER))
        level, score = VerdictLevel.OK, 0.0
        level_of = self.level_of if self.verdicts else _by_severity
        for finding in ordered:
            wanted = level_of(finding)
            if wanted.rank > level.rank:
                level, score = wanted, finding.score
            elif wanted == level and wanted != VerdictLevel.OK:
                score = max(score, finding.score)
        return Verdict(verdict=level, score=score, findings=ordered)


def _by_severity(finding: Finding) -> VerdictLevel:
    return _SEVERITY_VERDICT[finding.severity]


def _string_list(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise PolicyError(f"{key}: expected a list of strings")
    return tuple(_plain(item, key) for item in value)


def _plain(item: object, where: str) -> str:
    """A list item as text: a word or a number, never a nested list or mapping."""
    if isinstance(item, (Mapping, list)):
        raise PolicyError(f"{where}: expected a list of strings, found {type(item).__name__}")
    return str(item)


def _region(value: object) -> str:
    region = str(value).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise PolicyError(
            f"phone_region: {value!r} is not a two-letter country code phone numbers know"
        )
    return region


def _overrides(data: Mapping[str, Any]) -> dict[str, VerdictLevel]:
    overrides: dict[str, VerdictLevel] = {}
    for key in _OVERRIDE_KEYS:
        section = data.get(key) or {}
        if not isinstance(section, Mapping):
            raise PolicyError(f"{key}: expected a mapping of category to ok/review/block")
        for category, level in section.items():
            try:
                overrides[str(category)] = VerdictLevel(str(level).lower())
            except ValueError as error:
                raise PolicyError(
                    f"{key}.{category}: {level!r} is not ok, review or block"
                ) from error
    return overrides
