"""Text normalisation shared by keywords and notices: clean, tokenise, stem.

Keywords and notice text must go through exactly the same steps, otherwise a keyword could
never find itself. Everything here is deterministic and has no state, so the index and the
brute-force reference (which must agree) both call it.

Why a home-made stemmer: enterprises type "roof repair" and notices say "roofing repairs";
"caterer" must find "catering", "interpreting" must find "interpretation". A full morphological
analyser is overkill, and a plain "strip -s" misses most of this. The stemmer below follows the
spirit of the classic measure-based suffix strippers (strip a suffix only when enough of the word
is left), kept deliberately small so that its behaviour is easy to predict.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Words that carry no meaning inside a keyword phrase ("drug and alcohol" = drug + alcohol).
STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "and",
        "&",
        "or",
        "of",
        "the",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "as",
        "per",
        "via",
        "is",
        "are",
        "be",
        "its",
        "their",
        "our",
        "your",
        "this",
        "that",
        "these",
        "those",
    ]
)

#: Gap inserted between token positions at a sentence break, so that the words of a phrase
#: are never found in two different sentences.
SENTENCE_GAP = 20
#: Gap inserted at a clause break (a comma, a bracket, a dash between spaces): wider than any
#: phrase window of up to three words plus slack, so "repairs, cleaning and ... services" never
#: makes "cleaning services" of words that belong to different clauses or list items.
CLAUSE_GAP = 8

_MOJIBAKE = re.compile("[ÂÃâ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
# Some published feeds lost their backslashes, so "\r\n" reads "rn" glued to the next word.
_STRIPPED_NEWLINE = re.compile(r"(?:(?<=[a-z.,;:)!?])|(?<=^))(?:rn|n|r)+(?=[A-Z][a-z])")
_APOSTROPHE = re.compile(r"(?<=\w)['’`](?=\w)")
_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n\r•|]")
_CLAUSE_BREAK = re.compile(r"[,()\[\]{}]|\s[-–—]+\s|[–—]")
_TAG = re.compile(r"<[^>]{0,200}>")


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 (``Â£`` -> ``£``, ``â€™`` -> ``’``) when it is present."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        fixed = text
        for bad in set(_MOJIBAKE.findall(text)):
            try:
                fixed = fixed.replace(bad, bad.encode("cp1252").decode("utf-8"))
            except UnicodeError:
                continue
        return fixed


def strip_accents(text: str) -> str:
    """``café`` -> ``cafe``: keywords are typed without accents more often than with."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean(text: str) -> str:
    """Feed text made comparable: entities decoded, tags and mojibake removed, accents folded."""
    if not text:
        return ""
    text = html.unescape(fix_mojibake(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _STRIPPED_NEWLINE.sub(" ", text)
    text = _APOSTROPHE.sub("", text)
    return strip_accents(text)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: where it is, how it was written, and its comparable forms."""

    pos: int
    surface: str  # as written (accents folded), used for acronyms and for reasons
    lower: str  # casefolded surface: the form "quoted phrases" compare
    stem: str  # stemmed lower form: the form ordinary keywords compare


def tokenize(text: str) -> list[Token]:
    """Split cleaned text into tokens with positions; sentence breaks widen the position gap."""
    text = clean(text)
    tokens: list[Token] = []
    pos = 0
    last_end = 0
    for m in _TOKEN.finditer(text):
        if tokens and _SENTENCE_BREAK.search(text, last_end, m.start()):
            pos += SENTENCE_GAP
        elif tokens and CLAUSE_GAP and _CLAUSE_BREAK.search(text, last_end, m.start()):
            pos += CLAUSE_GAP
        surface = m.group()
        lower = surface.casefold()
        tokens.append(Token(pos, surface, lower, stem(lower)))
        pos += 1
        last_end = m.end()
    return tokens


@lru_cache(maxsize=300_000)
def tokenize_phrase(text: str) -> tuple[Token, ...]:
    """:func:`tokenize` for short, often repeated texts (keywords, synonyms), cached."""
    return tuple(tokenize(text))


def words(text: str) -> list[str]:
    """The casefolded words of ``text`` (no stemming)."""
    return [t.lower for t in tokenize(text)]


# --- stemming -------------------------------------------------------------------------------

_VOWELS = frozenset("aeiou")


def _is_consonant(word: str, i: int) -> bool:
    ch = word[i]
    if ch in _VOWELS:
        return False
    if ch == "y":
        return i == 0 or not _is_consonant(word, i - 1)
    return True


def measure(word: str) -> int:
    """Number of vowel-consonant sequences: how much "word" is left after a cut."""
    m = 0
    prev_vowel = False
    for i in range(len(word)):
        cons = _is_consonant(word, i)
        if cons and prev_vowel:
            m += 1
        prev_vowel = not cons
    return m


def _has_vowel(word: str) -> bool:
    return any(not _is_consonant(word, i) for i in range(len(word)))


def _cvc(word: str) -> bool:
    """Ends consonant-vowel-consonant (not w, x, y): short words like "car", "hop"."""
    if len(word) < 3:
        return False
    return (
        _is_consonant(word, len(word) - 1)
        and not _is_consonant(word, len(word) - 2)
        and _is_consonant(word, len(word) - 3)
        and word[-1] not in "wxy"
    )


# Derivational suffixes stripped when enough word is left (measure > 1), longest first.
_SUFFIXES: tuple[str, ...] = (
    "ational",
    "ation",
    "ement",
    "ator",
    "ment",
    "ness",
    "ance",
    "ence",
    "ity",
    "ive",
    "ate",
    "ion",
    "ism",
    "ist",
    "er",
    "or",
    "al",
)


# -ing nouns that name a different thing from their verb ("marketing" is not "market",
# "parking" is not "park"): kept whole, plurals folded. Each names a trade or a service
# whose base word is another, common thing: "training" is not "trains", "housing" not "in
# house", "banking" not "food bank", "planning" not "a plan", "accounting" not "take
# into account", "lighting" not "light vehicles", "gardening" not "garden waste".
_KEEP: dict[str, str] = {
    "marketing": "marketing",
    "parking": "parking",
    "parkings": "parking",
    "training": "training",
    "trainings": "training",
    "housing": "housing",
    "banking": "banking",
    "booking": "booking",
    "bookings": "booking",
    "boxing": "boxing",
    "dressing": "dressing",
    "dressings": "dressing",
    "gardening": "gardening",
    "planning": "planning",
    "accounting": "accounting",
    "lighting": "lighting",
    "clothing": "clothing",
    "living": "living",
    "printing": "printing",
    # -ation nouns kept apart from their verb where the verb's forms mean something else:
    # a "trauma informed service" is not an "information service"
    "information": "information",
    "evening": "evening",
    "evenings": "evening",
    "morning": "morning",
    "mornings": "morning",
}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Light English stemmer: ``roofing``->``roof``, ``caterers``->``cater``.

    Only lower-case ASCII-ish words are expected (callers casefold first). Words of three
    letters or fewer, and words with digits, are returned unchanged.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word in _KEEP:
        return _KEEP[word]
    # plurals
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # -ing / -ed
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) >= 3 and _has_vowel(base):
                word = base
                if word.endswith(("at", "bl", "iz")):
                    word += "e"
                elif len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                    word = word[:-1]
                elif measure(word) == 1 and _cvc(word):
                    word += "e"
            break
    # one derivational suffix
    for suffix in _SUFFIXES:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if suffix == "ion" and not base.endswith(("s", "t")):
                continue
            if measure(base) > 1:
                word = base
                break
    # final e and ll
    if word.endswith("e"):
        base = word[:-1]
        m = measure(base)
        if m > 1 or (m == 1 and not _cvc(base)):
            word = base
    if word.endswith("ll") and measure(word) > 1:
        word = word[:-1]
    return word
