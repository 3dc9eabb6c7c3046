"""What the settings pages offer: the risk engine's finding categories and the kinds of event.

Both are read from the risk library where it states them (the scanner registry, the built-in
calendar, the tragedy lexicons); the plain-language descriptions follow docs/risk.md. A test
checks that every category the scanners report is listed here, so the policy page cannot fall
behind the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from sixfold.risk import EventRegister, load_registry
from sixfold.risk.events import OBSERVANCE_KINDS


@dataclass(frozen=True, slots=True)
class Category:
    """A finding category a policy can override, and the registry scanner that reports it."""

    name: str
    scanner: str
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "sensitive_event",
        "sensitive_events",
        "Mentions an event that is active on the posting date: a disaster, attack or crisis in "
        "your register, or a remembrance day. Blocks by default when the post also sells or "
        "jokes.",
    ),
    Category(
        "tragedy_promotion",
        "tragedy_promotion",
        "Language of disaster, death, war or crime in the same post as selling or joking.",
    ),
    Category(
        "conditional_charity",
        "tragedy_promotion",
        'Help for people in need made to depend on likes or shares ("1 RT = 1 meal").',
    ),
    Category("profanity", "profanity", "Swear words, masked or not."),
    Category("slur", "profanity", "Slurs against a group of people."),
    Category(
        "personal_attack", "personal_attack", "An insult aimed at a named person or the reader."
    ),
    Category("minor_safety", "personal_attack", "An insult or sexual language close to a child."),
    Category(
        "confidential_term",
        "confidential",
        "A term from your confidential list below (codenames, unreleased products).",
    ),
    Category("financial", "confidential", "Results or figures that may not be public yet."),
    Category("merger", "confidential", "Deals such as acquisitions that may not be public yet."),
    Category("personnel", "confidential", "Layoffs, firings and closures."),
    Category("secrecy", "confidential", 'Cues such as "keep it quiet" or "embargoed".'),
    Category(
        "personal_data",
        "personal_data",
        "Card numbers, IBANs, national ID numbers, personal phone numbers and e-mail addresses.",
    ),
    Category("credential", "secrets", "API keys, tokens, private keys and passwords."),
    Category("politics", "hot_topics", "Party politics."),
    Category("religion", "hot_topics", "Religion."),
    Category("social_issue", "hot_topics", "Contested social issues (abortion, gun control…)."),
    Category(
        "racist_trope",
        "harmful_messaging",
        "Racist imagery or language: apes next to Black people, whiteness as purity.",
    ),
    Category("stereotype", "harmful_messaging", 'Gender stereotypes ("think like a man").'),
    Category(
        "consent", "harmful_messaging", "Consent made light of: drink spiking, ignoring a 'no'."
    ),
    Category("intoxication", "off_brand", "Being drunk or high, in the first person."),
    Category("personal_life", "off_brand", "Private relationships and personal life."),
    Category(
        "link",
        "links",
        "Misleading, shortened or suspicious links, and domains outside your allowed list.",
    ),
    Category("hygiene", "hygiene", "Shouting in capitals, excessive punctuation, broken hashtags."),
)
CATEGORY_NAMES = frozenset(c.name for c in CATEGORIES)


def categories_by_scanner() -> list[tuple[str, list[Category]]]:
    """Categories grouped under the registry's scanners, in the registry's order."""
    return [
        (spec.name, [c for c in CATEGORIES if c.scanner == spec.name])
        for spec in load_registry()
        if any(c.scanner == spec.name for c in CATEGORIES)
    ]


# What the tragedy lexicons (the tragedy-and-promotion scanner's word lists) say an event is;
# feed suggestions take their kind from here. "death" and the figurative words say only that
# something tragic happened.
LEXICON_KINDS = {
    "tragedy_terror": "terrorism",
    "tragedy_war": "war",
    "tragedy_disaster": "disaster",
    "tragedy_crime": "crime",
    "tragedy_unrest": "unrest",
    "tragedy_oppression": "oppression",
    "tragedy_death": "tragedy",
    "tragedy_weak": "tragedy",
}
# Mourned kinds first, in the order a person is most likely to need them.
_LEADING_KINDS = ("tragedy", "disaster", "conflict", "war", "terrorism", "shooting", "crime")


def event_kinds() -> tuple[str, ...]:
    """Every kind the risk library knows: the register default, the built-in calendar's kinds,
    the tragedy lexicons' kinds, and the observance kinds that are celebrated, not mourned."""
    known = {e.kind for e in EventRegister.builtin().events} | set(LEXICON_KINDS.values())
    mourned = [*_LEADING_KINDS, *sorted(known - set(_LEADING_KINDS) - OBSERVANCE_KINDS)]
    return (*mourned, *sorted(OBSERVANCE_KINDS))
