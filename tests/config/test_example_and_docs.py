"""config.example.toml, docs/configuration.md and the schema cannot drift apart.

* every key of the schema is in the example and in the docs, and nothing else is;
* the example loads as it is (to the built-in defaults) and with every line uncommented;
* every ``# key = value`` line not marked ``# e.g.`` shows the real default;
* the docs give the same default for it, and name the environment variable of each secret.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    ENV_SECRETS,
    SECTION_KEYS,
    Settings,
    config_from_dict,
    leaf_keys,
    load_config,
)
from bot.config.settings import sources
from tests.config.kit import ENV, PEM

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
DOCS = REPO / "docs" / "configuration.md"

_LIVE = re.compile(r'^(?:\[\[?[a-z_.]+\]\]?|(?:[a-z_]+|"[^"]+") = .*)$')


@dataclass(frozen=True)
class Line:
    """One ``key = value`` line of the example, as it reads once uncommented."""

    table: str
    key: str
    value: str  # the TOML literal as written
    commented: bool
    example: bool  # marked "# e.g.": an example value, not the default
    feed: int | None  # index among [[feeds]] tables


def _uncomment(raw: str) -> str | None:
    """The live text of a line that is TOML (commented out or not), else None (prose)."""
    text = raw[2:] if raw.startswith("# ") else raw
    return text if _LIVE.match(text) else None


def _lines() -> Iterator[Line]:
    table, feed = "", -1
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        text = _uncomment(raw)
        if text is None:
            continue
        if text.startswith("["):
            table = text.strip("[]")
            feed += table == "feeds"
            continue
        key, _, rest = text.partition(" = ")
        value, _, comment = rest.partition("  #")
        yield Line(
            table=table,
            key=key.strip('"'),
            value=value.strip(),
            commented=raw.startswith("#"),
            example="e.g." in comment,
            feed=feed if table == "feeds" else None,
        )


def _uncommented_data() -> dict[str, Any]:
    text = "\n".join(t for raw in EXAMPLE.read_text("utf-8").splitlines() if (t := _uncomment(raw)))
    return tomllib.loads(text)


def _flat(data: dict[str, Any], table: str = "") -> Iterator[str]:
    """The dotted keys of parsed data, descending only into tables the schema has."""
    for key, value in data.items():
        path = f"{table}.{key}" if table else key
        if path in SECTION_KEYS and isinstance(value, dict):
            yield from _flat(value, path)
        elif path in SECTION_KEYS and isinstance(value, list):
            for item in value:
                yield from _flat(item, path)
        else:
            yield path


# --------------------------------------------------------------------------- the example


def test_example_as_shipped_loads_to_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = load_config(EXAMPLE, env=ENV)
    assert example == load_config(env=ENV)
    assert example.warnings == ()


def test_example_has_every_key_and_no_other() -> None:
    assert set(_flat(_uncommented_data())) == set(leaf_keys())


def test_example_fully_uncommented_loads(tmp_path: Path) -> None:
    """Every line is valid; dkim_key and dkim_key_path exclude each other, so one at a time."""
    key = tmp_path / "dkim.pem"
    key.write_text(PEM, encoding="utf-8")
    data = _uncommented_data()
    email = data["email"]
    assert "dkim_key" in email and "dkim_key_path" in email
    with_path = {**data, "email": {**email, "dkim_key_path": str(key)}}
    del with_path["email"]["dkim_key"]
    config = config_from_dict(with_path, env={}, base_dir=REPO)
    assert config.email.dkim_enabled and config.email.inbound is not None
    assert config.telegram.enabled and len(config.feeds) == 3
    assert Path(config.feeds[2].path or "").is_file()
    with_key = {**data, "email": {**email, "dkim_key": PEM}}
    del with_key["email"]["dkim_key_path"]
    assert config_from_dict(with_key, env={}, base_dir=REPO).email.dkim_key == PEM


def _context(line: Line, data: dict[str, Any]) -> dict[str, Any]:
    """The smallest data in which ``line``'s key can be read on its own."""
    if line.table == "feeds":
        assert line.feed is not None
        return {"feeds": [{"kind": data["feeds"][line.feed]["kind"]}]}
    if line.table == "email.inbound":
        return {"email": {"inbound": {"host": "imap.example.org"}}}
    return {}


def _read(data: dict[str, Any], line: Line) -> Any:
    with sources(data, {}):
        settings = Settings()
    node: Any = settings
    for part in line.table.split("."):
        node = getattr(node, part)
        if isinstance(node, tuple):
            node = node[0]
    return getattr(node, line.key)


def _put(data: dict[str, Any], line: Line, value: Any) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(data)
    node: Any = data
    for part in line.table.split("."):
        node = node.setdefault(part, {})
        if isinstance(node, list):
            node = node[0]
    node[line.key] = value
    return data


def _default(line: Line) -> Any:
    """What leaving the key out gives; None for required keys and keys that default to nothing."""
    if line.key in ("kind", "host", "path") or (line.table, line.key) == ("web", "secret_key"):
        return None
    return _read(_context(line, _uncommented_data()), line)


DEFAULT_LINES = [line for line in _lines() if not line.example]


@pytest.mark.parametrize("line", DEFAULT_LINES, ids=lambda line: f"{line.table}.{line.key}")
def test_each_shown_value_is_the_default(line: Line) -> None:
    """What a line shows is what leaving the key out gives (keys that default to nothing
    show an example value instead)."""
    assert f"{line.table}.{line.key}" in leaf_keys()
    default = _default(line)
    if default is None:
        return
    value = tomllib.loads(f"v = {line.value}")["v"]
    context = _context(line, _uncommented_data())
    assert _read(_put(context, line, value), line) == default


def test_most_lines_show_a_default() -> None:
    """Guard against the test above passing by skipping: most keys have a real default."""
    assert sum(_default(line) is not None for line in DEFAULT_LINES) >= 50


# --------------------------------------------------------------------------- the docs


def _doc_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    table = None
    for raw in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"### `\[\[?([a-z_.]+)\]\]?`", raw)
        if heading:
            table = heading.group(1)
            continue
        if raw.startswith("## "):
            table = None
        row = re.match(r"\| `([a-z_]+)` \|(.*)\|$", raw)
        if table and row:
            cells = [c.strip() for c in row.group(2).split("|")]
            rows[f"{table}.{row.group(1)}"] = cells
    return rows


def test_docs_have_every_key_and_no_other() -> None:
    assert set(_doc_rows()) == set(leaf_keys())


def test_docs_rows_have_type_default_env_and_meaning() -> None:
    for key, cells in _doc_rows().items():
        assert len(cells) == 4, key
        kind, default, _env, meaning = cells
        assert kind and default, key
        assert meaning or key.rpartition(".")[2] in {
            "smtp_port",
            "smtp_username",
            "smtp_password",
            "port",
            "username",
            "password",
        }, f"{key} has no meaning"


def test_docs_name_each_secret_variable_on_its_key() -> None:
    rows = _doc_rows()
    by_key = {".".join(path): name for name, path in ENV_SECRETS.items()}
    for key, cells in rows.items():
        env = cells[2]
        assert env == (f"`{by_key[key]}`" if key in by_key else ""), key


def test_docs_defaults_match_the_example() -> None:
    rows = _doc_rows()
    for line in DEFAULT_LINES:
        if line.commented and _default(line) is not None:
            default = rows[f"{line.table}.{line.key}"][1]
            assert f"`{line.value}`" in default, (
                f"{line.table}.{line.key}: docs say {default}, the example shows {line.value}"
            )
