"""How X counts the length of a post: twitter-text's version 3 "weighted length".

X measures a post after Unicode NFC normalisation, in weights rather than characters:

- every link counts as 23, however long, because X shortens each one to a t.co link;
- an emoji counts as 2, whole: a skin tone, a ZWJ family, a flag or a keycap is one emoji;
- every other code point counts 1 when it lies in one of the ranges below (Latin, Greek,
  Cyrillic, Hebrew, Arabic, Indic scripts, general punctuation and spaces) and 2 otherwise
  (CJK, most symbols, anything outside the Basic Multilingual Plane).

A post may weigh at most 280. The composer counts with this so that what it shows agrees
with what X will accept; X has the last word and refuses a longer post with its own message.

Link detection follows twitter-text's rules closely enough for counting, not exactly:
twitter-text knows every top-level domain (about 1,500), this module the country codes and
the generic ones people commonly use. A bare domain under an unlisted generic TLD
(`example.museum` without `https://`) is counted by its characters instead of as 23.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
EMOJI_WEIGHT = 2
# (first, last) code points that weigh 1; everything else weighs 2 (twitter-text v3 config).
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_COUNTRY_CODES = """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
    br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do
    dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt
    gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp
    kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms
    mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr
    ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy
    sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu
    wf ws ye yt za zm zw"""
_GENERIC_NAMES = """
    com net org edu gov mil int info biz name pro aero asia cat coop jobs mobi museum post
    tel travel xxx app dev page blog shop store online site website tech xyz news cloud art
    design email link live life media network one social software studio systems team today
    top world zone agency academy africa amsterdam berlin business cafe capital careers center
    city club codes community company consulting digital energy events expert finance fund
    global group guru health host inc institute international london ltd money nyc paris
    partners photo photography plus press run services solutions space support tools tokyo
    wiki work works"""
COUNTRY_TLDS = frozenset(_COUNTRY_CODES.split())
GENERIC_TLDS = frozenset(_GENERIC_NAMES.split())
# Without "https://", one label under a country code ("file.py") is not a link, except
# under these two, which X treats like generic TLDs ("t.co").
SHORT_LINK_TLDS = frozenset({"co", "tv"})

# What may follow a domain in a link (twitter-text's validGeneralUrlPathChars, with Latin
# accents and Cyrillic letters); a link cannot run on into CJK text or other punctuation.
_PATH = r"[A-Za-z0-9!*';:=+,.$/%#\[\]\-_~|&@()\u00C0-\u024F\u0400-\u04FF]"
# A link may not follow a letter, a digit or the marks that make mentions, cashtags and
# hashtags; a bare domain not a dash, underscore, dot or slash either (twitter-text's
# validUrlPrecedingChars and invalidUrlWithoutProtocolPrecedingChars).
_WITH_SCHEME = re.compile(
    rf"(?<![A-Za-z0-9@＠$#＃])https?://[\w.\-]+(?::[0-9]+)?(?:[/?#]{_PATH}*)?", re.IGNORECASE
)
_BARE = re.compile(
    r"(?<![A-Za-z0-9@＠$#＃\-_./])"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?\.)+(?P<tld>[a-z]{2,}))"
    rf"(?![A-Za-z0-9@＠])(?P<path>/{_PATH}*)?",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^[^\W_](?:[\w-]{0,61}[^\W_])?$")
_IPV4 = re.compile(r"^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$")


def weighted_length(text: str) -> int:
    """The length X counts against its 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for start, end in link_spans(text):
        total += _weigh(text[position:start]) + URL_WEIGHT
        position = end
    return total + _weigh(text[position:])


def link_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every link X would shorten, in order."""
    spans = list(_scheme_links(text))
    taken = [range(start, end) for start, end in spans]
    for start, end in _bare_links(text):
        if not any(start in span or end - 1 in span for span in taken):
            spans.append((start, end))
    return sorted(spans)


def _scheme_links(text: str) -> Iterator[tuple[int, int]]:
    for match in _WITH_SCHEME.finditer(text):
        candidate = _trim_link_end(match.group(0))
        host = re.split(r"[:/?#]", candidate.split("://", 1)[1], maxsplit=1)[0]
        if _valid_host(host, bare=False):
            yield match.start(), match.start() + len(candidate)


def _bare_links(text: str) -> Iterator[tuple[int, int]]:
    for match in _BARE.finditer(text):
        host, tld, path = match["host"], match["tld"].lower(), match["path"]
        if tld not in COUNTRY_TLDS and tld not in GENERIC_TLDS:
            continue
        one_label = host.count(".") == 1
        if not path and one_label and tld in COUNTRY_TLDS and tld not in SHORT_LINK_TLDS:
            continue
        if not _valid_host(host, bare=True):
            continue
        end = match.start() + len(host) + len(_trim_link_end(path or ""))
        yield match.start(), end


def _valid_host(host: str, *, bare: bool) -> bool:
    if _IPV4.match(host):
        return not bare
    labels = host.split(".")
    tld = labels[-1]
    if len(labels) < 2 or not (tld.isalpha() or tld.startswith("xn--")):
        return False
    # Underscores are allowed in subdomains only; no label may exceed 63 characters.
    return all(
        _LABEL.match(label.replace("_", "a") if i < len(labels) - 2 else label)
        for i, label in enumerate(labels)
    )


def _trim_link_end(link: str) -> str:
    """Drop the punctuation that ends a sentence rather than the link ("see x.com/a.")."""
    while link and not _ends_link(link):
        link = link[:-1]
    return link


def _ends_link(link: str) -> bool:
    last = link[-1]
    if last == ")":
        return link.count("(") >= link.count(")")
    return last.isalnum() or last in "=_#/+-&"


def _weigh(segment: str) -> int:
    total, index = 0, 0
    while index < len(segment):
        end = _emoji_end(segment, index)
        if end > index:
            total += EMOJI_WEIGHT
            index = end
            continue
        code = ord(segment[index])
        total += 1 if any(first <= code <= last for first, last in LIGHT_RANGES) else 2
        index += 1
    return total


# Emoji ---------------------------------------------------------------------------------------
ZWJ = 0x200D
VS16 = 0xFE0F
KEYCAP = 0x20E3
PICTOGRAPHIC = (
    (0x1F000, 0x1FAFF),  # emoticons, pictographs, transport, supplemental symbols
    (0x2600, 0x27BF),  # miscellaneous symbols and dingbats
    (0x2300, 0x23FF),  # technical symbols: watch, hourglass, play buttons
    (0x2B00, 0x2BFF),  # arrows and stars: ⭐ ⬛ ⬆
    (0x2190, 0x21FF),  # arrows
    (0x25A0, 0x25FF),  # geometric shapes
    (0x2900, 0x297F),  # supplemental arrows
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x24C2, 0x24C2),
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
)
LIGHT_PICTOGRAPHS = frozenset({0x00A9, 0x00AE})  # © ® are text unless followed by VS16


def _emoji_end(text: str, index: int) -> int:
    """Where the emoji starting at `index` ends, or `index` when none starts there."""
    code = ord(text[index])
    if _regional_indicator(code):
        following = index + 1
        return (
            following + 1
            if following < len(text) and _regional_indicator(ord(text[following]))
            else index
        )
    if code < 0x80 and text[index] in "0123456789#*":
        end = index + 1
        if _code_at(text, end) == VS16:
            end += 1
        return end + 1 if _code_at(text, end) == KEYCAP else index
    if not _pictographic(code) or (code in LIGHT_PICTOGRAPHS and _code_at(text, index + 1) != VS16):
        return index
    end = _modifiers_end(text, index + 1)
    while _code_at(text, end) == ZWJ and _pictographic(_code_at(text, end + 1)):
        end = _modifiers_end(text, end + 2)
    return end


def _modifiers_end(text: str, index: int) -> int:
    """Skip the variation selector, skin tones and tag characters that qualify an emoji."""
    while True:
        code = _code_at(text, index)
        if code == VS16 or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
            index += 1
        else:
            return index


def _code_at(text: str, index: int) -> int:
    return ord(text[index]) if index < len(text) else -1


def _pictographic(code: int) -> bool:
    return any(first <= code <= last for first, last in PICTOGRAPHIC) and not (
        0x1F3FB <= code <= 0x1F3FF or _regional_indicator(code)
    )


def _regional_indicator(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF
