"""Telegram's ``parse_mode=HTML`` parser, strict, for the fake Bot API server.

It follows the rules of the Bot API documentation ("Formatting options") and the error
wording of Telegram's own parser, so that a message the real server would refuse with
``400 Bad Request: can't parse entities`` is refused here too. It is deliberately *stricter*
than Telegram in one place: a bare ``&`` that does not start an entity is an error here
(Telegram shows it literally), because the documentation says it must be escaped and an
unescaped ``&`` is always a sign of a missing ``html.escape``.

Offsets in entities are in UTF-16 code units, like the Bot API's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(err)`` is Telegram's wording."""


@dataclass
class ParsedText:
    """Plain text as the user sees it plus Bot API ``MessageEntity`` dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return [e["url"] for e in self.entities if e["type"] == "text_link"]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and text limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, i: int) -> tuple[str, int] | None:
    """Decode the entity starting at ``source[i] == '&'``; return (char, next index)."""
    m = _ENTITY_RE.match(source, i)
    if m is None:
        return None
    if m.group(1):
        return _NAMED[m.group(1)], m.end()
    code = int(m.group(2), 10) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _decode_attr(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            dec = _decode_entity(value, i)
            if dec is not None:
                out.append(dec[0])
                i = dec[1]
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def parse_html(source: str) -> ParsedText:
    """Parse ``source`` like Telegram; raise :class:`EntityParseError` where it would."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the plain text so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            dec = _decode_entity(source, i)
            if dec is None:
                raise EntityParseError(
                    f"Character '&' at byte offset {_byte_offset(source, i)} does not begin "
                    "an HTML entity and must be escaped as &amp;"
                )
            out.append(dec[0])
            out_len += utf16_len(dec[0])
            i = dec[1]
            continue
        if c != "<":
            out.append(c)
            out_len += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            i += 1
            name_start = i
            while i < n and not source[i].isspace() and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            while i < n and source[i].isspace():
                i += 1
            if i >= n or source[i] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(source, begin)}"
                )
            i += 1
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(source, begin)}"
                )
            top = stack.pop()
            if end_name != top.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                    f'expected "</{top.tag}>", found "</{end_name}>"'
                )
            _close(top, out_len, "".join(out), entities)
            continue
        name_start = i
        while i < n and not source[i].isspace() and source[i] not in ">":
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(source, begin)}"
            )
        tag = source[name_start:i].lower()
        if tag not in SUPPORTED_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
            )
        attrs: dict[str, str] = {}
        while True:
            while i < n and source[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            if source[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and not source[i].isspace() and source[i] not in "=>":
                i += 1
            attr = source[attr_start:i].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{_byte_offset(source, begin)}"
                )
            while i < n and source[i].isspace():
                i += 1
            if i >= n or source[i] != "=":
                attrs[attr] = ""
                continue
            i += 1
            while i < n and source[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            if source[i] in "\"'":
                quote = source[i]
                end = source.find(quote, i + 1)
                if end < 0:
                    raise EntityParseError(
                        f'Unclosed value of the attribute "{attr}" of the tag "{tag}" at '
                        f"byte offset {_byte_offset(source, begin)}"
                    )
                value = source[i + 1 : end]
                i = end + 1
            else:
                v_start = i
                while i < n and not source[i].isspace() and source[i] != ">":
                    i += 1
                value = source[v_start:i]
            attrs[attr] = _decode_attr(value)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError('Custom emoji entity must contain a tag "emoji-id"')
        stack.append(_Open(tag, attrs, out_len))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)


def _close(top: _Open, end: int, text_so_far: str, entities: list[dict[str, Any]]) -> None:
    length = end - top.start
    if length <= 0:
        return  # Telegram drops empty entities silently
    entity: dict[str, Any] = {"type": _ENTITY_TYPES.get(top.tag, ""), "offset": top.start}
    entity["length"] = length
    if top.tag == "a":
        href = top.attrs.get("href")
        if href is None:
            # <a>url</a> links to its own text
            units = text_so_far.encode("utf-16-le")
            href = units[top.start * 2 : end * 2].decode("utf-16-le")
        entity["type"] = "text_link"
        entity["url"] = href
    elif top.tag == "tg-emoji":
        entity["custom_emoji_id"] = top.attrs["emoji-id"]
    elif top.tag == "blockquote" and "expandable" in top.attrs:
        entity["type"] = "expandable_blockquote"
    elif top.tag == "code":
        lang = top.attrs.get("class", "")
        if lang.startswith("language-"):
            entity["language"] = lang[len("language-") :]  # kept only inside a <pre>
    if top.tag == "pre":
        # a <code class="language-x"> that exactly spans this <pre> becomes its language
        for e in list(entities):
            if (
                e["type"] == "code"
                and "language" in e
                and e["offset"] == top.start
                and e["length"] == length
            ):
                entity["language"] = e["language"]
                entities.remove(e)
    entities.append(entity)
