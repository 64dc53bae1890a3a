"""The one escape-and-fit helper: every string from a feed or a person goes through here.

Every string from a feed or a user is hostile until proven otherwise. It is *cleaned* first
(control characters, bidi overrides and lone surrogates removed, whitespace collapsed), then
*truncated as raw text*, and only then escaped, so a cut can never land inside a tag or an
``&amp;`` entity and Telegram never answers "can't parse entities". Telegram refuses a text
longer than 4096 characters *after* entity parsing (:func:`visible_length`); :func:`fit`
is the last line of defence, dropping whole lines.

The chat handlers, the enquiry wording, the web pages and the renderers all use these, so
there is one definition of "safe" in the project.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

__all__ = [
    "TELEGRAM_TEXT_LIMIT",
    "clean",
    "clean_lines",
    "esc",
    "fit",
    "href",
    "link",
    "plain",
    "safe_url",
    "truncate",
    "visible_length",
]

TELEGRAM_TEXT_LIMIT = 4096

# Bidi embeddings/overrides/isolates and marks: they can make a title display backwards or
# hide text; nothing in a contract notice needs them.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACE_LIKE = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")
_WS_RE = re.compile(r"\s+")
_TAG_RE = re.compile(r"<[^>]*>")


def clean(value: object, limit: int | None = None) -> str:
    """One line of safe plain text: no control/bidi/surrogate characters, ``limit`` long."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    for ch in text:
        if ch in _SPACE_LIKE:
            out.append(" ")
            continue
        if ch in _BIDI or ch == "\ufeff":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\u200d":
            continue
        out.append(ch)
    text = _WS_RE.sub(" ", "".join(out)).strip()
    if limit is not None:
        text = truncate(text, limit)
    return text


_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_lines(value: object, limit: int | None = None) -> str:
    """Like :func:`clean` but keeping line breaks (a question, a reply): no control, bidi
    or private characters, at most one blank line in a row, ``limit`` characters."""
    if not value:
        return ""
    text = value if isinstance(value, str) else str(value)
    out = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch in "\n\t":
            out.append(ch if ch == "\n" else " ")
            continue
        if ch in _BIDI or ch == "\ufeff":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            continue
        out.append(ch)
    result = _BLANK_RUNS.sub("\n\n", "".join(out)).strip()
    if limit is not None and len(result) > limit:
        result = result[: limit - 1].rstrip() + "…"
    return result


def truncate(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= max(1, limit - 20):
        cut = cut[:space]
    # don't leave a joiner or a combining mark dangling at the end
    while cut and (cut[-1] == "\u200d" or unicodedata.combining(cut[-1])):
        cut = cut[:-1]
    return cut.rstrip(" ,;:-–—") + "…"


def esc(text: str) -> str:
    """HTML-escape text for Telegram or a page body (quotes need no escaping there)."""
    return html.escape(text, quote=False)


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) link without spaces or controls, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 2048:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def href(url: object) -> str | None:
    """A safe URL escaped for an HTML attribute, or None."""
    safe = safe_url(url)
    return html.escape(safe, quote=True) if safe is not None else None


def link(url: object, text_html: str) -> str:
    """``text_html`` as a link to ``url`` when the URL is safe, else the text alone."""
    attr = href(url)
    return f'<a href="{attr}">{text_html}</a>' if attr else text_html


def plain(telegram_html: str) -> str:
    """What a person sees of ``telegram_html``: tags dropped, entities decoded."""
    return html.unescape(_TAG_RE.sub("", telegram_html))


def visible_length(telegram_html: str) -> int:
    """Length of ``telegram_html`` as Telegram counts it: tags removed, entities decoded.

    Counted in UTF-16 code units (an emoji outside the BMP counts twice), which is what the
    Bot API measures and never less than the number of characters.
    """
    return len(plain(telegram_html).encode("utf-16-le", "surrogatepass")) // 2


def fit(html_text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Never hand Telegram more than it accepts: drop whole lines (each line is balanced
    HTML) from the end until the text fits, and say so with "…"."""
    if visible_length(html_text) <= limit:
        return html_text
    lines = html_text.split("\n")
    while len(lines) > 1 and visible_length("\n".join([*lines, "…"])) > limit:
        lines.pop()
    return "\n".join([*lines, "…"])
