"""Config problems as one line that names the key: ``config error: KEY: what is wrong``.

That line is all a user sees (``bestbot`` exits 2 with it), so it must say which key,
what was written and what is expected -- and never echo a secret. Validators raise
:func:`problem` with their own wording; :func:`explain` turns pydantic's
``ValidationError`` (a list of errors with a location each) into the one
:class:`ConfigError` reported, translating pydantic's generic type errors into the
same plain style.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.config.redaction import Secret, redact_text
from bot.durations import format_duration
from bot.errors import UserError

__all__ = ["ConfigError", "explain", "key_path", "problem", "show", "suggest"]

Loc = tuple[int | str, ...]


class ConfigError(UserError):
    """A config problem, as one line: ``config error: KEY: what is wrong and what is expected``.

    ``key`` is the dotted key path (``feeds[0].every``), the environment
    variable, or ``None`` for a problem with the file as a whole.
    """

    def __init__(self, problem: str, key: str | None = None) -> None:
        self.key = key
        self.problem = problem
        text = f"config error: {key}: {problem}" if key else f"config error: {problem}"
        super().__init__(" ".join(text.splitlines()))


def problem(text: str, *, at: str | tuple[str, ...] = "", key: str = "") -> PydanticCustomError:
    """A validation error worded for the user.

    ``at`` is a path below the value being validated (``"jitter"``, ``"[2].name"``, or
    a tuple of names taken as they are, for keys the user chose) for checks that see a
    whole table; ``key`` replaces the location
    altogether when a check on one table is about a key of another
    (``"web.public_url"``).
    """
    return PydanticCustomError("config", "{problem}", {"problem": text, "at": at, "key": key})


def show(value: Any) -> str:
    """A value as the user wrote it, short and on one line, with secrets masked."""
    if isinstance(value, Secret):
        return "the value given"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = redact_text(value)
        text = text if len(text) <= 60 else text[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return f"{value.isoformat()} (a TOML date/time; quote it)"
    if isinstance(value, timedelta):
        return json.dumps(format_duration(value))
    return type(value).__name__


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {json.dumps(close[0])}?)" if close else ""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(loc: Iterable[int | str]) -> str:
    """``("feeds", 0, "every")`` -> ``"feeds[0].every"``; odd names quoted as TOML does."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("[") and part.endswith("]"):
            text += part
        else:
            name = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
            text += f".{name}" if text else name
    return text


# --------------------------------------------------------------------------- the schema


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            inner = [a for a in get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def _step(annotation: Any, part: int | str) -> Any:
    """The annotation one step down ``part`` (a field name or a list index), or None."""
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if isinstance(part, int):
        if origin in (tuple, list):
            return get_args(annotation)[0]
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part)
        return field.annotation if field is not None else None
    if origin is not None and issubclass(origin, Mapping):
        return get_args(annotation)[1]
    return None


def annotation_at(root: type[BaseModel], loc: Loc) -> Any:
    """The declared type at ``loc`` below ``root``, or None when there is none."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return annotation


def _mentions(annotation: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, kinds):
        return True
    return any(_mentions(arg, kinds) for arg in get_args(annotation))


def _fields(annotation: Any) -> tuple[str, ...]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return tuple(annotation.model_fields)
    return ()


def _options(annotation: Any) -> tuple[str, ...]:
    annotation = _unwrap(annotation)
    return tuple(str(a) for a in get_args(annotation)) if get_origin(annotation) is Literal else ()


# --------------------------------------------------------------------------- translation


def _listed(options: Iterable[str]) -> str:
    return ", ".join(json.dumps(o) for o in options)


def _table_name(loc: Loc) -> str:
    return "[" + ".".join(str(p) for p in loc if isinstance(p, str)) + "]"


def _generic(error: ErrorDetails, root: type[BaseModel], loc: Loc, shown: str) -> str:
    """Pydantic's own error types, in bestbot's words."""
    kind = error["type"]
    annotation = annotation_at(root, loc)
    if kind == "extra_forbidden":
        parent = _unwrap(annotation_at(root, loc[:-1]))
        names = _fields(parent)
        return "unknown key" + suggest(str(loc[-1]), names)
    if kind == "missing":
        options = _options(annotation)
        return f"required: one of {_listed(options)}" if options else "required"
    if kind in ("literal_error", "enum"):
        options = _options(annotation)
        value = error.get("input")
        hint = suggest(value, options) if isinstance(value, str) else ""
        return f"{shown} is not one of {_listed(options)}{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"{shown} is not a table ({_table_name(loc)})"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        inner = _unwrap(_step(annotation, 0)) if annotation is not None else None
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return f"{shown} is not a list of [{_table_name(loc)}] tables"
        return f"{shown} is not a list"
    expected = _EXPECTED.get(kind)
    if expected is not None:
        return f"{shown} is not {expected}"
    return f"{shown}: {error['msg'][:1].lower()}{error['msg'][1:]}"


_EXPECTED: Mapping[str, str] = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "timedelta_type": 'a duration like "15m"',
    "time_type": 'a time like "07:00"',
}


def _message(error: ErrorDetails, root: type[BaseModel], secret: bool) -> tuple[str, Loc, str]:
    """``(key, loc, text)``: ``key`` is set when a check named another table's key."""
    loc: Loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == "config":
        at = ctx.get("at") or ()
        below = tuple(at) if isinstance(at, tuple | list) else _split(str(at))
        return str(ctx.get("key") or ""), (*loc, *below), str(ctx["problem"])
    if error["type"] == "value_error":
        return "", loc, str(ctx.get("error", error["msg"]))
    value = error.get("input")
    shown = "the value given" if secret else show(value)
    if error["type"] in ("model_type", "dict_type", "model_attributes_type") and isinstance(
        value, str
    ):
        shown = "a string"  # a section written as a string may be a pasted secret
    return "", loc, _generic(error, root, loc, shown)


def _split(at: str) -> tuple[str, ...]:
    """``"[1].name"`` -> ``["[1]", "name"]`` (list indexes kept in brackets for key_path)."""
    return tuple(piece for piece in at.replace("[", ".[").split(".") if piece)


#: Shorter secret values are not scrubbed from messages: they would mangle ordinary words
#: (a password "tender"), and no validator echoes a secret in the first place.
_MIN_SCRUB = 8


def _rank(error: ErrorDetails) -> int:
    """Unknown keys first: a typo in a key name often causes the other errors."""
    return 0 if error["type"] == "extra_forbidden" else 1


def explain(
    exc: ValidationError,
    root: type[BaseModel],
    *,
    rename: Callable[[Loc], str | None] = lambda loc: None,
    scrub: Iterable[str] = (),
) -> ConfigError:
    """The first problem in ``exc`` as a :class:`ConfigError`.

    ``rename`` names the key for locations whose value came from elsewhere (an
    environment variable); ``scrub`` lists secret values that must not appear in
    the message even if a validator slipped one in.
    """
    errors = sorted(exc.errors(include_url=False), key=_rank)
    error = errors[0]
    annotation = annotation_at(root, tuple(error["loc"]))
    secret = _mentions(annotation, (Secret,))  # a SecretURL is shown, redacted, by show()
    key, loc, text = _message(error, root, secret)
    key = key or rename(loc) or key_path(loc)
    for value in scrub:
        if len(value) >= _MIN_SCRUB:
            text = text.replace(value, "***")
    return ConfigError(text, key or None)
