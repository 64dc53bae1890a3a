"""Reading what people type: keywords, money, hours, on/off, email addresses. Pure functions.

Everything typed is hostile until cleaned: control characters, bidi overrides (which can make
text display backwards), zero-width characters and lone surrogates are removed before
anything is stored or echoed back. Parsers return a value or raise :class:`InputError` whose
message says, in plain English, what was wrong and what to type instead.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

from matchers.text import tokenize

MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 60
MAX_CPV = 30
ECHO_CHARS = 40

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InputError(ValueError):
    """What the user typed can't be used; ``str()`` is the (plain text) reason and a hint."""


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u200b\u200c\u2060\ufeff\u00ad")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Safe plain text: no control, bidi, invisible or surrogate characters; spaces collapsed."""
    out: list[str] = []
    for ch in text:
        if ch in "\r\n\u2028\u2029\x85":
            out.append("\n" if keep_newlines else " ")
            continue
        if ch == "\t":
            out.append(" ")
            continue
        if ch in _BIDI or ch in _INVISIBLE:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            continue
        out.append(ch)
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n")]
    return "\n".join(lines).strip() if keep_newlines else " ".join(lines).strip()


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """A short, cleaned and HTML-escaped copy of user input, to quote back in a reply."""
    cleaned = clean(text)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return html.escape(cleaned, quote=False)


def searchable(phrase: str) -> bool:
    """Has letters or digits the matcher can look for (emoji-only and ``*_[`` have none)."""
    return bool(tokenize(phrase.strip("\"“”'")))


# --------------------------------------------------------------------------- keywords

_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]*)[\"“”„«»]")
_SEPARATORS = re.compile(r"[,;\n•·|]+|\s+(?:and|&)\s+", re.IGNORECASE)
_EDGE_PUNCT = " .:!?-–—*_()[]{}<>/\\'`~"


@dataclass
class KeywordSplit:
    """A message split into keywords, with what could not be used and why."""

    good: list[str] = field(default_factory=list)
    too_long: list[str] = field(default_factory=list)
    unsearchable: list[str] = field(default_factory=list)


def split_keywords(text: str) -> KeywordSplit:
    """``community catering, school meals and "meals on wheels"`` -> three keywords.

    Separators: commas, semicolons, new lines, bullets and the word "and". A "quoted phrase"
    stays whole (and is matched exactly). Duplicates (any case) are dropped.
    """
    result = KeywordSplit()
    cleaned = clean(text, keep_newlines=True)
    pieces: list[str] = []
    pos = 0
    for found in _QUOTED.finditer(cleaned):
        pieces.extend(_SEPARATORS.split(cleaned[pos : found.start()]))
        inner = " ".join(found.group(1).split())
        pieces.append(f'"{inner}"' if inner else "")
        pos = found.end()
    pieces.extend(_SEPARATORS.split(cleaned[pos:]))
    seen: set[str] = set()
    for raw in pieces:
        piece = " ".join(raw.split())
        if not piece.startswith('"'):
            piece = piece.strip(_EDGE_PUNCT)
        if not piece:
            continue
        if len(piece) > MAX_KEYWORD_CHARS:
            result.too_long.append(piece)
            continue
        if not searchable(piece):
            result.unsearchable.append(piece)
            continue
        key = piece.casefold()
        if key in seen:
            continue
        seen.add(key)
        result.good.append(piece)
    return result


def keyword_key(keyword: str) -> str:
    return keyword.strip("\"“”'").casefold()


@dataclass
class WordSort:
    """New words sorted against a list: which go in, which are there already, which don't fit.
    Chat (``/add``) and the settings page share it, so both keep the same limit and order."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    over: list[str] = field(default_factory=list)


def sort_new_words(current: list[str], words: list[str]) -> WordSort:
    """Sort ``words`` (already split and checked) against ``current``, case-insensitively,
    keeping at most ``MAX_KEYWORDS`` in all."""
    known = {keyword_key(k) for k in current}
    result = WordSort()
    for word in words:
        if keyword_key(word) in known:
            result.already.append(word)
        elif len(current) + len(result.added) >= MAX_KEYWORDS:
            result.over.append(word)
        else:
            result.added.append(word)
            known.add(keyword_key(word))
    return result


# --------------------------------------------------------------------------- money

_MONEY = re.compile(r"^£?(\d+(?:[.,]\d+)*)\s*(k|m|bn|thousand|million)?$", re.IGNORECASE)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9}
VALUE_HINT = (
    "Type /value 10k 500k (from £10,000 to £500,000), /value 50k (at least £50,000) or /value any."
)


def _amount(word: str) -> float:
    found = _MONEY.match(word.strip())
    if found is None:
        raise InputError(f"“{clean(word)[:ECHO_CHARS]}” isn't an amount. {VALUE_HINT}")
    number = float(found.group(1).replace(",", ""))
    scale = _SCALE.get((found.group(2) or "").lower(), 1.0)
    amount = number * scale
    if amount > 1e12:
        raise InputError(f"That's more than any contract I've seen. {VALUE_HINT}")
    return amount


def parse_value(args: str) -> tuple[float | None, float | None]:
    """``10k 500k`` -> (10000, 500000); ``any`` -> (None, None); ``up to 500k`` -> max only."""
    text = clean(args).lower().replace("–", "-").replace("—", "-")
    if not text:
        raise InputError(VALUE_HINT)
    if text in {"any", "off", "none", "all", "clear", "no limit"}:
        return None, None
    up_to = text.startswith(("up to ", "upto ", "under ", "below ", "max "))
    if up_to:
        text = text.split(" ", 2)[-1] if text.startswith("up to ") else text.split(" ", 1)[1]
    text = re.sub(r"^(from|over|above|min|at least)\s+", "", text)
    words = [w for w in re.split(r"\s+to\s+|\s*-\s*|\s+", text) if w]
    if len(words) > 2:
        raise InputError(f"Give at most two amounts. {VALUE_HINT}")
    amounts = [_amount(w) for w in words]
    if up_to:
        if len(amounts) != 1:
            raise InputError(VALUE_HINT)
        return None, amounts[0]
    if len(amounts) == 1:
        return amounts[0], None
    low, high = amounts
    if low > high:
        raise InputError(
            f"The smallest value ({money(low)}) is above the largest ({money(high)}). {VALUE_HINT}"
        )
    return (low or None), high


def money(amount: float) -> str:
    if amount >= 1e6 and amount % 1e5 == 0:
        return f"£{amount / 1e6:g}m"
    if amount >= 1e3 and amount % 1e3 == 0:
        return f"£{amount / 1e3:g}k"
    return f"£{amount:,.0f}"


def value_range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return "any value"
    if low is None:
        return f"up to {money(high or 0)}"
    if high is None:
        return f"at least {money(low)}"
    return f"{money(low)} to {money(high)}"


# --------------------------------------------------------------------------- switches, times

ON_OFF_HINT = "Type on or off, e.g. /vcse on."


def parse_on_off(args: str) -> bool:
    word = clean(args).lower()
    if word in {"on", "yes", "y", "true", "1", "only"}:
        return True
    if word in {"off", "no", "n", "false", "0", "any"}:
        return False
    raise InputError(ON_OFF_HINT)


_HOUR = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def parse_hour(word: str) -> int:
    """``8``, ``08:00``, ``8am``, ``5pm`` -> an hour 0-23 (minutes must be :00)."""
    found = _HOUR.match(word.strip().lower())
    if found is None:
        raise InputError(f"“{clean(word)[:ECHO_CHARS]}” isn't an hour: type e.g. 8 or 17:00.")
    hour = int(found.group(1))
    if found.group(2) not in (None, "00"):
        raise InputError("Digests go out on the hour: type e.g. 8 or 17:00.")
    if found.group(3):
        if not 1 <= hour <= 12:
            raise InputError("With am/pm, the hour is 1 to 12: type e.g. 8am or 5pm.")
        hour = hour % 12 + (12 if found.group(3) == "pm" else 0)
    if not 0 <= hour <= 23:
        raise InputError("The hour must be 0 to 23: type e.g. 8 or 17:00.")
    return hour


FREQUENCY_HINT = (
    "Type /frequency instant, /frequency daily (optionally with the hour, e.g. daily 8) "
    "or /frequency weekly (e.g. weekly monday 8)."
)


@dataclass(frozen=True)
class Frequency:
    kind: str  # instant | daily | weekly
    hour: int | None = None
    weekday: int | None = None


def parse_frequency(args: str) -> Frequency:
    words = clean(args).lower().replace(",", " ").split()
    if not words:
        raise InputError(FREQUENCY_HINT)
    kind = {"instantly": "instant", "now": "instant", "digest": "daily"}.get(words[0], words[0])
    if kind not in ("instant", "daily", "weekly"):
        raise InputError(f"“{clean(args)[:ECHO_CHARS]}” isn't a frequency. {FREQUENCY_HINT}")
    hour: int | None = None
    weekday: int | None = None
    for word in words[1:]:
        if word in ("at", "on", "every"):
            continue
        day = next(
            (i for i, d in enumerate(WEEKDAYS) if len(word) >= 3 and d.startswith(word)), None
        )
        if day is not None and kind == "weekly":
            weekday = day
            continue
        if kind == "instant":
            raise InputError("Instant alerts have no hour. " + FREQUENCY_HINT)
        hour = parse_hour(word)
    return Frequency(kind, hour, weekday)


QUIET_HINT = "Type /quiet 21:00-07:00 (no alerts overnight) or /quiet off."
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def _clock(word: str) -> tuple[int, int]:
    found = _CLOCK.match(word)
    if found is None:
        raise InputError(QUIET_HINT)
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InputError(QUIET_HINT)
    return hour, minute


def parse_quiet(args: str) -> str:
    """``21:00-07:00`` / ``21-7`` -> ``"21:00-07:00"``; ``off`` -> ``"off"``."""
    text = clean(args).lower().replace(" ", "").replace("–", "-").replace("to", "-")
    if text in ("off", "none", "no"):
        return "off"
    start, sep, end = text.partition("-")
    if not sep:
        raise InputError(QUIET_HINT)
    (h1, m1), (h2, m2) = _clock(start), _clock(end)
    if (h1, m1) == (h2, m2):
        raise InputError("Quiet hours must start and end at different times. " + QUIET_HINT)
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


# --------------------------------------------------------------------------- email

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}$"
)
EMAIL_HINT = "Type /email followed by your address, e.g. /email jane@example.org."


def parse_email(args: str) -> str:
    address = clean(args).strip("<>")
    if not address:
        raise InputError(EMAIL_HINT)
    if len(address) > 254 or " " in address or not _EMAIL.match(address):
        raise InputError(
            f"“{address[:ECHO_CHARS]}” doesn't look like an email address. {EMAIL_HINT}"
        )
    local, _, domain = address.rpartition("@")
    if ".." in local or local.startswith(".") or local.endswith("."):
        raise InputError(
            f"“{address[:ECHO_CHARS]}” doesn't look like an email address. {EMAIL_HINT}"
        )
    return f"{local}@{domain.lower()}"


def parse_code(args: str) -> str:
    digits = "".join(clean(args).split())
    if not re.fullmatch(r"\d{6}", digits):
        raise InputError("Type the 6-digit code from the email, e.g. /verify 123456.")
    return digits
