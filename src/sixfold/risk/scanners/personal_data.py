"""Personal data: payment cards, IBANs, national ID numbers, phone numbers and e-mail addresses.

Numbers are only reported when their checksum holds (Luhn for cards, ISO 13616 mod-97 for IBANs,
the national algorithms in python-stdnum) or, for phones, when libphonenumber says the number is
valid, so order numbers and dates do not trip it. A brand's own toll-free line or support@ address
is expected in posts and only noted; the policy's ``public_contacts`` silences them entirely.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import phonenumbers
from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.es import dni
from stdnum.gb import nhs
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from sixfold.risk.document import Document
from sixfold.risk.gates import Gate
from sixfold.risk.model import Context, Finding, Severity
from sixfold.risk.scanners.base import BaseScanner, quote

CATEGORY = "personal_data"
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?\b")
# Bounded repeats (RFC 5321 limits) keep a long run of dots from making the search quadratic.
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,24}\b")
# A full stop followed by a space ends a sentence, never a part of a phone number: "call
# 020 7946 0018. 20% off" holds the number, not "020 7946 0018. 20".
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\d ()-]|\.(?!\s)){5,18}\d(?!\w)")
_DIGITS = re.compile(r"\d")
_THREE_DIGITS = re.compile(r"\d{3}")
# Every alternative starts at a digit, which the search skips to in C (see batch.py).
_NUMBER_GATE = re.compile(
    r"\d(?:"
    r"(?:[ ().\-]{0,16}\d){6}"  # seven digits, spaced as a phone number may space them
    r"|(?<=[a-z]{2}\d)(?<![a-z0-9][a-z]{2}\d)\d"  # the start of an IBAN
    r"|\d[a-z]\d{2}[a-z]\d{3})"  # the middle of a codice fiscale
)
_CARD_DIGITS = 13
_LABELLED_DIGITS = 8
_ROLE_MAILBOXES = frozenset(
    [
        "support",
        "help",
        "info",
        "hello",
        "contact",
        "press",
        "media",
        "sales",
        "service",
        "care",
        "team",
        "careers",
        "jobs",
        "hr",
        "privacy",
        "feedback",
        "marketing",
        "news",
        "newsletter",
        "noreply",
        "no-reply",
        "orders",
        "shop",
        "store",
        "customerservice",
        "customercare",
        "office",
        "admin",
        "partners",
        "investors",
        "events",
        "trade",
        "wholesale",
        "enquiries",
        "inquiries",
        "bookings",
        "booking",
        "reservations",
        "returns",
        "billing",
        "accounts",
        "partnerships",
        "recruitment",
        "studio",
        "webmaster",
        "security",
        "legal",
        "membership",
        "members",
        "tickets",
        "community",
        "social",
        "editor",
        "editors",
        "newsroom",
        "ir",
        "donations",
        "volunteers",
        "students",
        "admissions",
        "reception",
    ]
)
_PUBLIC_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
    }
)
# (pattern, validator, what it is, a character every match holds or "") for national
# identifiers with a format and checksum; the character lets a post without it skip the search.
_NATIONAL_IDS: tuple[tuple[re.Pattern[str], Callable[[str], bool], str, str], ...] = (
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), ssn.is_valid, "a US Social Security number", "-"),
    (re.compile(r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b"), cpf.is_valid, "a Brazilian CPF number", "-"),
    (re.compile(r"\b\d{8}-?[a-z]\b"), dni.is_valid, "a Spanish DNI number", ""),
    (re.compile(r"\b\d{4} \d{4} \d{4}\b"), aadhaar.is_valid, "an Indian Aadhaar number", " "),
    (
        re.compile(r"\b[a-z]{6}\d{2}[a-z]\d{2}[a-z]\d{3}[a-z]\b"),
        codicefiscale.is_valid,
        "an Italian codice fiscale",
        "",
    ),
)

# Identifiers whose bare digits look like any other number, so they are only read after their
# label ("BSN 111222333", "NHS number 943 476 5919").
_LABELLED = re.compile(
    r"\b(bsn|burgerservicenummer|nhs(?:\s+(?:number|no\.?))?|ssn|social security(?:\s+number)?)"
    r"\s*[:#]?\s*(\d[\d -]{7,12}\d)\b"
)
_LABELS = ("bsn", "burgerservicenummer", "nhs", "ssn", "social security")
_LABEL_VALIDATORS: tuple[tuple[str, Callable[[str], bool], str], ...] = (
    ("bsn", bsn.is_valid, "a Dutch citizen service number (BSN)"),
    ("burgerservicenummer", bsn.is_valid, "a Dutch citizen service number (BSN)"),
    ("nhs", nhs.is_valid, "an NHS number"),
    ("ssn", ssn.is_valid, "a US Social Security number"),
    ("social security", ssn.is_valid, "a US Social Security number"),
)
# A number in national format ("020 7946 0018") that is not valid in the policy's region is
# tried in these, so a UK or Australian number is recognised on a US-configured account.
_FALLBACK_REGIONS = ("GB", "AU", "IE", "NZ", "CA", "DE", "FR", "NL", "ES", "IT", "IN", "ZA")

# Words just before a number that mark it as the organisation's own line ("call us on",
# "book a table at our restaurant: 020 ..."); without them, or after "we'll call you on", the
# number may well be a customer's.
_BUSINESS_CUE = re.compile(
    r"\b(?:(?:call|ring|phone|text|whatsapp|contact|reach)\s+(?:us|our\s+\w+)|tel|telephone|"
    r"phone|book\w*|reservations?|helpline|hotline|enquiries|orders?|office|store|branch|"
    r"restaurant|hotel|reception)\b[^\d]{0,25}$"
)

Candidate = tuple[tuple[int, int], Severity, str]


class PersonalDataScanner(BaseScanner):
    # Every number the scanner reports holds seven digits with only the separators a phone
    # number may have between them (cards, national IDs, labelled IDs and phones all do),
    # except IBANs and the codice fiscale, which have a shape of their own.
    gate = Gate(
        folded=(re.compile(r"@(?<=[\w.+-]@)[\w-]{1,63}\."), _NUMBER_GATE),
        # "020 7946 0018", and "212 - 555 - 0199": a word of separators alone joins both ways.
        across=(
            (
                "folded",
                r"\d[().\-]*|(?<![^\x00])[().\-]+",
                r"[().\-]*\d|[().\-]+(?=\x00|\Z)",
            ),
        ),
    )

    def scan(self, document: Document, context: Context) -> list[Finding]:
        view = document.folded  # not squeezed: de-leeting would rewrite IBAN letters and digits
        public = _public(context.policy.public_contacts)
        found: list[Candidate] = []
        digits = _count_digits(view.text)
        if digits >= 6:
            found += _numbers(view.text, context.policy.phone_region, digits)
        if "@" in view.text:
            found += _emails(view.text)
        findings = []
        for (start, end), severity, what in found:
            if public and _canonical(view.text[start:end]) in public:
                continue
            span = view.to_original(start, end)
            findings.append(self._finding(document, span, severity, what))
        return findings

    def _finding(
        self, doc: Document, span: tuple[int, int], severity: Severity, what: str
    ) -> Finding:
        advice = {
            Severity.BLOCK: "never post it",
            Severity.REVIEW: "post it only with the person's consent",
            Severity.INFO: "fine if it is your organisation's public contact",
        }[severity]
        return self.finding(
            category=CATEGORY,
            severity=severity,
            score={Severity.BLOCK: 0.95, Severity.REVIEW: 0.6, Severity.INFO: 0.2}[severity],
            span=span,
            message=f"{quote(doc, span)} looks like {what}; {advice}.",
        )


def _count_digits(text: str) -> int:
    # In ASCII text \d means 0-9, which str.count finds without building a match per digit.
    if text.isascii():
        return sum(map(text.count, "0123456789"))
    return len(_DIGITS.findall(text))


@functools.lru_cache(maxsize=64)
def _public(contacts: tuple[str, ...]) -> frozenset[str]:
    """A policy's public contacts in canonical form, once per policy rather than per post."""
    return frozenset(_canonical(c) for c in contacts)


def _canonical(value: str) -> str:
    return re.sub(r"[^\w@.]", "", value.casefold())


def _numbers(text: str, region: str, digits: int) -> list[Candidate]:
    found: list[Candidate] = list(_cards_and_ibans(text, digits))
    # Every national identifier holds three digits in a row; the labelled ones need a label.
    if _THREE_DIGITS.search(text):
        found += _national_ids(text)
    if any(label in text for label in _LABELS):
        found += _labelled_ids(text)
    taken = [span for span, _, _ in found]
    for match in _PHONE.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        kind = _phone_kind(match.group(0), region)
        if kind is not None:
            if kind[0] is Severity.REVIEW and _BUSINESS_CUE.search(text[: match.start()][-40:]):
                kind = (Severity.INFO, "your organisation's phone number")
            found.append((match.span(), *kind))
    return found


def _cards_and_ibans(text: str, digits: int) -> Iterator[Candidate]:
    # A card number has at least 13 digits, so a text with fewer is not searched for one.
    cards = _CARD.finditer(text) if digits >= _CARD_DIGITS else iter(())
    for match in cards:
        digits_only = re.sub(r"\D", "", match.group(0))
        if (
            _CARD_DIGITS <= len(digits_only) <= 19
            and digits_only[0] in "3456"
            and _valid(luhn.is_valid, digits_only)
        ):
            yield match.span(), Severity.BLOCK, "a payment card number (it passes the Luhn check)"
    for match in _IBAN.finditer(text):
        if _valid(iban.is_valid, match.group(0).upper()):
            yield match.span(), Severity.BLOCK, "a bank account number (a valid IBAN)"


def _national_ids(text: str) -> Iterator[Candidate]:
    for pattern, is_valid, what, mark in _NATIONAL_IDS:
        if mark not in text:
            continue
        for match in pattern.finditer(text):
            if _valid(is_valid, match.group(0).upper()):
                yield match.span(), Severity.BLOCK, f"{what} (its checksum is valid)"


def _labelled_ids(text: str) -> Iterator[Candidate]:
    for match in _LABELLED.finditer(text):
        label, number = match.group(1), match.group(2)
        # python-stdnum pads a short number with zeros ("12-34-56" is BSN 000123456);
        # every one of these numbers has eight digits or more when written out.
        if sum(c.isdigit() for c in number) < _LABELLED_DIGITS:
            continue
        for prefix, is_valid, what in _LABEL_VALIDATORS:
            if label.startswith(prefix) and _valid(is_valid, number):
                yield match.span(2), Severity.BLOCK, f"{what} (its checksum is valid)"
                break


# An organisation's own numbers (its phone lines, its test card) come back post after post;
# checking one means parsing it, so each judgement is remembered.
@functools.lru_cache(maxsize=4096)
def _valid(is_valid: Callable[[str], bool], value: str) -> bool:
    return is_valid(value)


@functools.lru_cache(maxsize=4096)
def _phone_kind(candidate: str, region: str) -> tuple[Severity, str] | None:
    digits = len(_DIGITS.findall(candidate))
    if not 7 <= digits <= 15:
        return None
    number = _parse_phone(candidate, region)
    if number is None and candidate.lstrip("(").startswith("0") and digits >= 9:
        number = next(filter(None, (_parse_phone(candidate, r) for r in _FALLBACK_REGIONS)), None)
    if number is None:
        return None
    if phonenumbers.number_type(number) in _PUBLIC_PHONE_TYPES:
        return Severity.INFO, "a public service phone number"
    return Severity.REVIEW, "a personal phone number"


def _parse_phone(candidate: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _emails(text: str) -> Iterator[Candidate]:
    for match in _EMAIL.finditer(text):
        mailbox = match.group(0).split("@", 1)[0]
        if mailbox in _ROLE_MAILBOXES:
            yield match.span(), Severity.INFO, "a role e-mail address"
        else:
            yield match.span(), Severity.REVIEW, "a personal e-mail address"
