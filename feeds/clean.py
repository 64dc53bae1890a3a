"""Text cleaning for feed strings: mojibake, HTML, control characters, whitespace.

Publishers hand us text that went through several wrong encodings and HTML
editors: Contracts Finder serves ``Â£`` for ``£`` and ``â€¢`` for ``•`` (UTF-8
bytes decoded as Windows-1252), older exports carry ``&pound;`` and ``<p>``.
Alerts show this text to people, and the matcher compares words in it, so it is
repaired once here rather than in every consumer.

Everything is linear-time and bounded (:data:`MAX_INPUT_CHARS`) so hostile input
cannot stall a poll.
"""

from __future__ import annotations

import html
import re
import unicodedata

#: Longer inputs are cut before cleaning; no real notice text comes near this.
MAX_INPUT_CHARS = 200_000
#: Descriptions are capped after cleaning so one notice cannot bloat storage or alerts.
MAX_DESCRIPTION_CHARS = 20_000
MAX_TITLE_CHARS = 1_000


def _cp1252_byte_map() -> dict[str, int]:
    """Map each character to the single byte it came from under cp1252 (or latin-1).

    Mojibake is UTF-8 bytes shown through cp1252; to undo it we need the
    inverse. The five bytes cp1252 leaves undefined (0x81, 0x8D...) come
    through as C1 control characters, as Python's latin-1 would show them.
    """
    mapping: dict[str, int] = {}
    for byte in range(256):
        raw = bytes([byte])
        try:
            char = raw.decode("cp1252")
        except UnicodeDecodeError:
            char = raw.decode("latin-1")
        mapping[char] = byte
    return mapping


_BYTE_OF = _cp1252_byte_map()
_CONT = "".join(re.escape(c) for c, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
# A UTF-8 lead byte (shown as Â..ô) followed by the right number of continuation bytes.
_MOJIBAKE_RE = re.compile(
    f"[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}|[\u00f0-\u00f4][{_CONT}]{{3}}"
)
_TAG_RE = re.compile(r"</?[A-Za-z!][^<>]*>")
_DROP_BLOCK_RE = re.compile(r"<(script|style)\b[^<>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK_TAG_RE = re.compile(r"<(br|/p|p|/div|div|li|tr|h\d|/h\d)\b[^<>]*>", re.IGNORECASE)
_SPACES_RE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES_RE = re.compile(r"\n{3,}")


def _unmojibake_match(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return bytes(_BYTE_OF[c] for c in run).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return run


def repair_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-cp1252 damage (``Â£`` → ``£``, ``â€™`` → ``’``).

    Only runs that form a *valid* UTF-8 sequence when turned back into bytes
    are replaced, so ordinary accented text (``café``, ``Zürich``) is left alone.
    Two passes repair text that was double-encoded.
    """
    for _ in range(2):
        repaired = _MOJIBAKE_RE.sub(_unmojibake_match, text)
        if repaired == text:
            break
        text = repaired
    return text


def strip_html(text: str) -> str:
    """Drop scripts/styles with their content, turn block tags into line breaks, drop tags."""
    if "<" not in text:
        return text
    text = _DROP_BLOCK_RE.sub(" ", text)
    text = _BREAK_TAG_RE.sub("\n", text)
    return _TAG_RE.sub("", text)


def _invisible_class() -> str:
    """A regex class of every BMP control/format/private-use char except tab and newline.

    Built once from Unicode categories (Cc, Cf, Co) so it follows the data, and
    run as one regex: a per-character Python loop was half the parse time.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if chr(code) in "\t\n" or 0xD800 <= code <= 0xDFFF:
            continue
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Co"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    parts = [
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    ]
    # Astral format characters (tag characters) and private-use planes.
    parts.append("\U000e0000-\U000e007f\U000f0000-\U0010ffff")
    return "[" + "".join(parts) + "]"


_INVISIBLE_RE = re.compile(_invisible_class())
# A lone UTF-16 surrogate: JSON allows "\ud800" on its own, no UTF-8 encoder does.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _remove_control_chars(text: str) -> str:
    """Keep newlines and tabs; drop other control and format characters (NUL, ESC, ZWSP...)
    and lone surrogates, which would make the text impossible to store or print."""
    text = _INVISIBLE_RE.sub("", text.replace("\r", "\n"))
    return _SURROGATE_RE.sub("", text)


def _tidy_whitespace(text: str, single_line: bool) -> str:
    if single_line:
        return " ".join(text.split())
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES_RE.sub("\n\n", "\n".join(lines)).strip()


def clean_text(value: object, *, single_line: bool = False, max_chars: int | None = None) -> str:
    """Return ``value`` as clean display text ("" for None or non-text).

    Order matters: mojibake first (entities may hide inside it), then HTML
    entities and tags twice (text that was escaped twice, ``&amp;pound;``, or
    escaped markup ``&lt;p&gt;``), then control characters and whitespace.
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return ""
    text = value[:MAX_INPUT_CHARS].replace("\r\n", "\n")
    text = repair_mojibake(text)
    for _ in range(2):
        unescaped = strip_html(html.unescape(text))
        if unescaped == text:
            break
        text = unescaped
    text = repair_mojibake(text)
    text = _tidy_whitespace(_remove_control_chars(text), single_line)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


def clean_title(value: object) -> str:
    """A title: one line, cleaned, capped."""
    return clean_text(value, single_line=True, max_chars=MAX_TITLE_CHARS)


def clean_description(value: object) -> str:
    """A description: paragraphs kept, cleaned, capped."""
    return clean_text(value, max_chars=MAX_DESCRIPTION_CHARS)
