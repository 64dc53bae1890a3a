"""The triage lexicon, loaded from its data file ``matchers/data/triage_lexicon.json``.

Edit the JSON, not this module. Its keys:

* ``lexicon``: topic -> list of ``[term, weight]``. A term is one or more words separated by
  spaces, lower case, punctuation written as spaces ("start up", "t and cs"); a word ending in
  ``*`` matches any word starting with it ("tender*" matches tender, tenders, tendering).
  Weights: 3 = on its own says the topic, 2 = strong, 1 = a hint, 0.5 = barely. The entry
  ``{"generate": "start_up_phrases"}`` stands for every "verb determiner [organisation]" phrase
  built from ``start_up_phrases`` ("set up a CIC" 3.0, "start a" 1.5), so that "set up payroll"
  or "start the tender" do not count as start-up.
* ``neutral``: phrases that use up their words and score nothing: they describe the sender
  ("we are a CIC") rather than the question.
* ``setting``: topic -> terms that usually set the scene (SEEM's enquirers are mostly bidding or
  grant-funded), counted half when another topic has strong evidence of its own.
* ``not_typos``: everyday words one edit from a lexicon word (contact/contract): never typos.
* ``extra_word_weight``: the weight of words a config adds to a topic (``extra_words``).

Longer phrases win over the words inside them ("funding bid" is funding, so its "bid" no longer
counts for tendering). The lexicon was written from what support bodies for social enterprises
are asked, then improved on the dev set only (docs/triage.md); never from dev2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "triage_lexicon.json"

Lexicon = Mapping[str, tuple[tuple[str, float], ...]]


class LexiconFileError(ValueError):
    """The lexicon data file does not follow the format above (message says where)."""


def _start_up_phrases(spec: Mapping[str, Any]) -> list[tuple[str, float]]:
    """'set up a CIC', 'starting our own social enterprise', ...: the start-up signal.

    Only a verb of starting followed by a kind of organisation is decisive; a verb with a
    determiner alone ("start a repair cafe") is a strong hint.
    """
    out: list[tuple[str, float]] = []
    short = float(spec["verb_determiner_weight"])
    full = float(spec["verb_determiner_organisation_weight"])
    for verb in spec["verbs"]:
        for det in spec["determiners"]:
            out.append((f"{verb} {det}", short))
            out.extend((f"{verb} {det} {org}", full) for org in spec["organisations"])
    return out


def _terms(
    topic: str, entries: list[Any], spec: Mapping[str, Any]
) -> tuple[tuple[str, float], ...]:
    out: list[tuple[str, float]] = []
    for n, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("generate") == "start_up_phrases":
            out.extend(_start_up_phrases(spec))
        elif (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], int | float)
        ):
            out.append((entry[0], float(entry[1])))
        else:
            raise LexiconFileError(
                f"{DATA_FILE.name}: lexicon.{topic}[{n}]: expected [term, weight]"
            )
    return tuple(out)


def load(path: Path = DATA_FILE) -> dict[str, Any]:
    """The parsed lexicon file, checked enough that a bad edit fails with one clear line."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("topics", "lexicon", "neutral", "setting", "not_typos", "extra_word_weight"):
        if key not in data:
            raise LexiconFileError(f"{path.name}: missing key {key!r}")
    unknown = set(data["lexicon"]) - set(data["topics"])
    if unknown:
        raise LexiconFileError(f"{path.name}: lexicon: unknown topics {sorted(unknown)}")
    return dict(data)


_DATA = load()

TOPICS: tuple[str, ...] = tuple(_DATA["topics"])
"""The topic ids, fixed by the design; ``general`` is the duty adviser's."""

LEXICON: dict[str, tuple[tuple[str, float], ...]] = {
    topic: _terms(topic, entries, _DATA.get("start_up_phrases", {}))
    for topic, entries in _DATA["lexicon"].items()
}
"""Topic -> (term, weight). Add words per topic in config rather than here where you can."""

NEUTRAL: tuple[str, ...] = tuple(_DATA["neutral"])
"""Phrases that describe the sender or are idioms; they use up their words and score nothing."""

SETTING: frozenset[tuple[str, str]] = frozenset(
    (topic, term) for topic, terms in _DATA["setting"].items() for term in terms
)
"""Scene-setting (topic, term) pairs, counted half when another topic has strong evidence."""

EXTRA_WORD_WEIGHT: float = float(_DATA["extra_word_weight"])
"""Weight given to words a config adds to a topic (``extra_words``)."""

NOT_TYPOS: frozenset[str] = frozenset(_DATA["not_typos"])
"""Everyday words near a lexicon word: typo-matching skips them (the exact match still counts)."""
