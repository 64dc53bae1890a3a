"""Other senses: set phrases in which a service word means a different trade.

"recovery" is a drug and alcohol service, but "debt recovery" is a collections service and
"vehicle recovery" a breakdown truck; "refuge" is safe housing, but a "refuge area" is a fire
escape landing; "corporate parenting" is a council's duty to children in care, not parenting
support. When a keyword word occurs only inside one of these phrases, it is not a hit,
unless the keyword itself names the phrase ("debt recovery" still finds "debt recovery").

General knowledge of UK procurement language, not tuned to any notice. Each entry is
``(word, phrase)``: the phrase contains the word, in that order.
"""

from __future__ import annotations

from functools import lru_cache

from matchers.text import tokenize

OTHER_SENSES: tuple[tuple[str, str], ...] = (
    # recovery: collections, breakdown, engineering, economics
    ("recovery", "debt recovery"),
    ("recovery", "cost recovery"),
    ("recovery", "income recovery"),
    ("recovery", "fraud recovery"),
    ("recovery", "asset recovery"),
    ("recovery", "disaster recovery"),
    ("recovery", "data recovery"),
    ("recovery", "vehicle recovery"),
    ("recovery", "breakdown recovery"),
    ("recovery", "breakdown and recovery"),
    ("recovery", "recovery vehicle"),
    ("recovery", "heat recovery"),
    ("recovery", "energy recovery"),
    ("recovery", "resource recovery"),
    ("recovery", "economic recovery"),
    ("recovery", "recovery plan"),
    ("recovery", "business recovery"),
    ("recovery", "system recovery"),
    ("recovery", "backup and recovery"),
    ("recovery", "backup or recovery"),
    # advice bought by the council for itself
    ("advice", "legal advice"),
    ("advice", "tax advice"),
    ("advice", "technical advice"),
    ("advice", "professional advice"),
    ("advice", "actuarial advice"),
    ("advice", "treasury advice"),
    ("advice", "investment advice"),
    ("advice", "procurement advice"),
    ("advice", "engineering advice"),
    ("advice", "financial advice"),
    ("advice", "state aid advice"),
    ("advice", "commercial advice"),
    ("advice", "property advice"),
    ("advice", "planning advice"),
    ("advice", "valuation advice"),
    ("advice", "pensions advice"),
    ("advice", "insurance advice"),
    ("advice", "audit advice"),
    ("advice", "HR advice"),
    ("advice", "expert advice"),
    ("advice", "consultancy advice"),
    ("advice", "strategic advice"),
    ("advice", "policy advice"),
    # advice the bidder is told to take
    ("advice", "seek advice"),
    ("advice", "take advice"),
    ("advice", "obtain advice"),
    ("advice", "seek independent advice"),
    ("advice", "seek their own advice"),
    ("advice", "seek your own advice"),
    # the buyer's website and portal, where documents are
    ("website", "our website"),
    ("website", "on the website"),
    ("website", "via the website"),
    ("website", "from the website"),
    ("website", "visit the website"),
    ("website", "councils website"),
    ("website", "council website"),
    ("website", "website address"),
    ("website", "website at"),
    ("portal", "on the portal"),
    ("portal", "via the portal"),
    ("portal", "through the portal"),
    ("portal", "our portal"),
    ("portal", "e tendering portal"),
    ("portal", "procurement portal"),
    # children's services jargon
    ("parenting", "corporate parenting"),
    ("childcare", "childcare vouchers"),
    # buildings and fire safety
    ("refuge", "refuge area"),
    ("refuge", "refuge point"),
    ("refuge", "disabled refuge"),
    ("refuge", "refuge call"),
    ("refuge", "refuge alarm"),
    # data and heritage
    ("interpretation", "data interpretation"),
    ("interpretation", "interpretation of data"),
    ("interpretation", "interpretation of results"),
    ("interpretation", "heritage interpretation"),
    ("interpretation", "interpretation panels"),
    ("interpreting", "interpreting data"),
    ("translation", "knowledge translation"),
    # highways
    ("safety", "road safety audit"),
    ("signage", "road signage"),
    ("signage", "traffic signage"),
    ("signage", "highway signage"),
    ("signs", "traffic signs"),
    ("furniture", "street furniture"),
    # security in computing and economics
    ("security", "cyber security"),
    ("security", "information security"),
    ("security", "network security"),
    ("security", "data security"),
    ("security", "food security"),
    ("security", "security of supply"),
    ("security", "social security"),
    # design as construction
    ("design", "design and build"),
    ("design", "detailed design"),
    ("design", "engineering design"),
    ("design", "architectural design"),
    # printing machines
    ("printing", "3d printing"),
    ("printing", "printing equipment"),
    # nursery: plants and animals, not childcare
    ("nursery", "tree nursery"),
    ("nursery", "forest nursery"),
    ("nursery", "plant nursery"),
    ("nursery", "nursery products"),
    ("nursery", "nursery stock"),
    ("nursery", "animal nursery"),
    ("nurseries", "animal nurseries"),
    ("nurseries", "tree nurseries"),
)


@lru_cache(maxsize=1)
def compiled() -> dict[str, tuple[tuple[tuple[str, ...], int, frozenset[str]], ...]]:
    """first stem -> ((stems of the phrase), index of the word, context stems)."""
    table: dict[str, list[tuple[tuple[str, ...], int, frozenset[str]]]] = {}
    for word, phrase in OTHER_SENSES:
        stems = tuple(t.stem for t in tokenize(phrase))
        target = next(t.stem for t in tokenize(word))
        idx = stems.index(target)
        context = frozenset(s for i, s in enumerate(stems) if i != idx)
        table.setdefault(stems[0], []).append((stems, idx, context))
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def sense_words() -> frozenset[str]:
    """Stems of the words that have another sense listed here ("recovery", "advice")."""
    return frozenset(next(t.stem for t in tokenize(word)) for word, _ in OTHER_SENSES)
