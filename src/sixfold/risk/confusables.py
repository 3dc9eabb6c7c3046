"""Homoglyphs folded to the Latin letter they imitate.

Source of the facts: Unicode Technical Standard #39 (Unicode Security Mechanisms), whose
confusables data lists characters that are visually identical or near-identical to Latin letters.
This is a small hand-picked subset covering the Cyrillic, Greek and other lookalikes that actually
appear in filter evasion; NFKD already folds fullwidth, mathematical and enclosed letters, so they
are not repeated here. Keys are lower case because folding casefolds first.
"""

from __future__ import annotations

_PAIRS = (
    # Cyrillic
    ("а", "a"),
    ("в", "b"),
    ("е", "e"),
    ("ё", "e"),
    ("г", "r"),
    ("һ", "h"),
    ("і", "i"),
    ("ї", "i"),
    ("ј", "j"),
    ("к", "k"),
    ("ԁ", "d"),
    ("м", "m"),
    ("н", "h"),
    ("о", "o"),
    ("п", "n"),
    ("р", "p"),
    ("с", "c"),
    ("ѕ", "s"),
    ("т", "t"),
    ("у", "y"),
    ("ү", "y"),
    ("х", "x"),
    ("ԛ", "q"),
    ("ԝ", "w"),
    ("ѡ", "w"),
    ("ь", "b"),
    ("ӏ", "l"),
    ("ɡ", "g"),
    # Greek
    ("α", "a"),
    ("β", "b"),
    ("ε", "e"),
    ("η", "n"),
    ("ι", "i"),
    ("κ", "k"),
    ("ν", "v"),
    ("ο", "o"),
    ("ρ", "p"),
    ("τ", "t"),
    ("υ", "u"),
    ("χ", "x"),
    ("ϲ", "c"),
    ("ω", "w"),
    ("ζ", "z"),
    # Latin lookalikes outside ASCII and IPA letters
    ("ı", "i"),
    ("ȷ", "j"),
    ("ɑ", "a"),
    ("ɩ", "i"),
    ("ʏ", "y"),
    ("ᴀ", "a"),
    ("ʙ", "b"),
    ("ᴄ", "c"),
    ("ᴅ", "d"),
    ("ᴇ", "e"),
    ("ɢ", "g"),
    ("ʜ", "h"),
    ("ɪ", "i"),
    ("ᴊ", "j"),
    ("ᴋ", "k"),
    ("ʟ", "l"),
    ("ᴍ", "m"),
    ("ɴ", "n"),
    ("ᴏ", "o"),
    ("ᴘ", "p"),
    ("ʀ", "r"),
    ("ꜱ", "s"),
    ("ᴛ", "t"),
    ("ᴜ", "u"),
    ("ᴠ", "v"),
    ("ᴡ", "w"),
    ("ᴢ", "z"),
    ("ø", "o"),
    ("ł", "l"),
    ("đ", "d"),
    ("ħ", "h"),
    ("ß", "ss"),
)

CONFUSABLES: dict[str, str] = dict(_PAIRS)
