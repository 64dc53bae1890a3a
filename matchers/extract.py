"""What an enterprise does, read from what it says about itself: short trade terms and places.

People answer "What does your enterprise do?" the way they would answer a person: "we're a
community catering co-op doing school meals and events in Nottingham", a pasted mission
statement, a list, one word, with typos and emoji. Used as keywords as typed, such answers
match nothing (every word of "we're a community catering co-op doing school meals" must
occur close together). This module turns them into the keywords the matcher is good with —
``catering``, ``school meals``, ``events`` — and a region suggestion (``Nottingham``).

How (pure, deterministic, general English plus the CPV vocabulary; no list tuned to a
notice or a test):

1. The text is cut into *clauses* at punctuation, emoji, new lines and list bullets, and at
   the little words that join or introduce ("and", "for", "in", "we", "providing"...). Words
   are never joined across a clause, so no term spans two sentences or two list items.
2. A clause's words that say *who the enterprise is* ("social enterprise", "community co-op",
   "CIC", "charity", "local", "award-winning") or carry no trade ("doing", "providing",
   "contracts", "mission") are dropped; place names (East Midlands towns and counties,
   postcodes, UK region names) are taken out as the region suggestion.
3. Names of trades are recognised from the **CPV labels** (the procurement vocabulary: "School
   meals", "Facilities management services", "Office cleaning services") and the synonym
   lexicon (:mod:`matchers.lexicon`), so a known name stays whole even when it holds a little
   word ("meals on wheels", "drug and alcohol"). What is left of a clause, up to three words,
   is kept as one term (people name trades with compounds: "wedding cakes", "bike repair");
   a longer leftover is split at the known names in it.
4. Words after "for"/"to"/"in" that say who is served ("for offices and schools") are
   customers, not trades, and are dropped unless the lexicon names them ("older people").
5. Misspelt words are read as the known word they are a letter or two away from
   ("catring" -> "catering"), as the matcher itself does.

A text that only asks ("What is this? How much does it cost?") or holds no word that could
name a trade gives no terms, and says which, so the bot can help instead of storing it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from feeds.regions import ENGLAND as ENGLISH_CODES
from feeds.regions import NUTS_NAMES, codes_for_name
from matchers import cpv as cpv_codes
from matchers import inference, places
from matchers.keywords import allowed_edits
from matchers.lexicon import SYNONYM_GROUPS, WEAK_HEADS
from matchers.regions import ENGLAND
from matchers.text import STOPWORDS, stem
from matchers.words import corrections, is_common, is_known

__all__ = [
    "LONG_WORDS",
    "Extraction",
    "Place",
    "extract",
    "region_codes",
    "shorter",
    "word_count",
]

Kind = Literal["terms", "question", "empty"]

#: A keyword of more than this many words rarely occurs whole in a notice: warn and suggest.
LONG_WORDS = 4
#: At most this many terms come from one answer (each becomes a button).
MAX_TERMS = 12
#: Longest compound kept as one term when no known trade name is in it.
MAX_COMPOUND = 3


@dataclass(frozen=True, slots=True)
class Place:
    """A place the text names, with the NUTS codes of the area the bot would watch."""

    name: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What :func:`extract` read: ``terms`` to offer as keywords, places, and notes."""

    kind: Kind
    terms: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    #: (as typed, as read) for misspelt words read as a known word
    corrected: tuple[tuple[str, str], ...] = ()
    #: (term, a shorter suggestion) for terms longer than :data:`LONG_WORDS` words
    long: tuple[tuple[str, str], ...] = ()
    #: some of the text was a question (the bot answers it with a line of help)
    asked: bool = False
    #: words typed that were kept out as the enterprise describing itself ("social enterprise")
    dropped: tuple[str, ...] = field(default=())
    #: the enterprise's own name, when the text gives it ("Green Fingers CIC")
    name: str | None = None


# --------------------------------------------------------------------------- word classes


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# General English, not any notice's wording: closed-class words, the verbs people use to
# say what they do, the words organisations describe themselves with.

_PRONOUNS = _words(
    "me my mine i i'm im i've ive i'd i'll we we'll you'll they'll we're were we've weve "
    "we'd us our ours ourselves you "
    "you're your yours they they're their them it it's its he she his her who whom whose "
    "which that this these those there here what whats what's one ones myself"
)
_DETERMINERS = _words(
    "a an the some any all every each both either neither many much more most few several "
    "lots lot loads plenty such other others another various whole own no"
)
_AUXILIARIES = _words(
    "am is are was be been being have has had having do does did done can could will would "
    "shall should may might must don't dont doesn't isn't aren't can't cant won't "
    "wasn't weren't haven't hasn't didn't"
)
_CONJUNCTIONS = _words(
    "and or but nor plus also as well so then than because while whilst although though "
    "if when where whether either etc eg e.g ie i.e & + n"
)
#: Introduce who or where is served: what follows is a customer or a place, not a trade.
_AUDIENCE_START = _words(
    "for to in into across throughout around within near at among amongst "
    "serving covering based located"
)
_PREPOSITIONS = _words(
    "of on by from with without via per about over under between through up down out off "
    "like including include includes included inc incl especially mainly mostly "
    "particularly primarily largely mostly predominantly specifically chiefly"
)
_ADVERBS = _words(
    "very really just only currently now often always usually generally sometimes "
    "already still even quite too again together mainly mostly also fully totally "
    "basically essentially actually simply truly locally nationally regionally "
    "not never ever yet soon"
)
#: Verbs of doing, offering, being, aiming: they say *that* the enterprise works, not at what.
_VERBS = _words(
    "provide provides provided providing provider providers offer offers offered offering "
    "offerings deliver delivers delivered delivering run runs running ran make makes made "
    "making do doing does specialise specialises specialised specialising specialize "
    "specializes specialized specializing focus focuses focused focusing focussed "
    "aim aims aiming seek seeks seeking help helps helping helped enable enables enabling "
    "empower empowers empowering tackle tackles tackling reduce reduces reducing improve "
    "improves improving create creates creating bring brings bringing believe believes "
    "want wants wanting love loves like likes need needs looking look find finding get "
    "getting got give gives giving go going take takes taking use uses using operate "
    "operates operating trade trades trading sell sells selling supply supplies supplying "
    "serve serves served offer work works working worked do engage engages engaging "
    "ensure ensures supported supporting assist assists assisting "
    "install installs installed established founded registered started set employ employs "
    "employing cover covers "
    "covered based located specialists specialist expert experts experienced "
    "passionate dedicated committed proud pride happy interested keen able"
)
#: How organisations describe themselves; kept out of the terms (and reported as dropped).
_SELF = _words(
    "enterprise enterprises social co-op coop co-ops coops co-operative cooperative "
    "co-operatives cooperatives cic cics cio charity charities charitable company companies "
    "organisation organisations organization organizations org business businesses firm "
    "group team collective trust ltd limited llp plc partnership non-profit nonprofit "
    "not-for-profit notforprofit voluntary venture ventures startup start-up family-run "
    "family-owned independent mission vision values purpose goal goals ethos profit "
    "profits reinvest reinvests reinvested reinvesting agency agencies surplus surpluses "
    "community-led "
    "volunteer-led user-led people-led member-owned worker-owned employee-owned "
    "owned society benefit interest sole trader traders freelance freelancer freelancers "
    "self-employed"
)
#: Soft modifiers: dropped at the edge of a term ("local catering" -> "catering").
_SOFT = _words(
    "local small little big large friendly quality high-quality professional affordable "
    "ethical award-winning innovative reliable trusted bespoke best great good fantastic "
    "amazing excellent new established growing leading unique creative sustainable green "
    "eco-friendly community wide range full variety different wonderful fun "
    "specialist expert general high low healthy fresh nutritious delicious tasty hot cold warm "
    "safe happy caring inclusive accessible diverse vibrant thriving modern traditional "
    "practical personal personalised tailored flexible efficient effective reasonable "
    "cheap low-cost free-of-charge handmade home-made homemade lovely beautiful "
    "top premium exclusive extensive comprehensive holistic"
)
#: Words about the bot's own business: contracts, tenders, alerts, money, time.
_PROCUREMENT = _words(
    "contract contracts tender tenders tendering bid bids bidding opportunity opportunities "
    "notice notices alert alerts work works stuff thing things kind sort type "
    "types area areas sector sectors field fields industry market markets customer "
    "customers client clients price prices cost costs money free year years month months "
    "week weeks day days time times since ago today tomorrow yesterday monday tuesday "
    "wednesday thursday friday saturday sunday weekend weekends january february march "
    "april june july august september october november december morning afternoon "
    "evening yes no ok okay hi hello hey thanks "
    "thank please cheers sorry um erm hmm lol test testing etc anything everything "
    "something nothing bot question questions answer"
)
#: People and institutions that are served: a customer, not a trade, as a term on its own.
_AUDIENCE = _words(
    "people persons person adults adult children child kids families family parents "
    "residents resident individuals users members communities public everyone "
    "organisations businesses companies charities councils council authorities "
    "schools school colleges universities offices office homes households hospitals "
    "venues landlords tenants employers partners agencies clients customers groups "
    "sites buildings premises properties"
)
#: Trailing heads that add nothing to a term ("cleaning services" -> "cleaning").
_EMPTY_HEADS = _words(
    "service services solution solutions provision provisions activity activities "
    "offering offerings"
)
_QUESTION_START = _words("what whats what's how why who where when which")
_QUESTION_AUX = _words("is are can could do does will would should may")
_QUESTION_NEXT = _words("it this that you i we there the your")

_BREAK_WORDS = (
    _PRONOUNS
    | _DETERMINERS
    | _AUXILIARIES
    | _CONJUNCTIONS
    | _PREPOSITIONS
    | _ADVERBS
    | _VERBS
    | _PROCUREMENT
    | _AUDIENCE_START
    | STOPWORDS
)


# --------------------------------------------------------------------------- vocabulary


def _stems(words: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stem(w) for w in words if w not in STOPWORDS)


_LABEL_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bor\b|\(|\)|\bexcept\b|\bexcl\b|\bincl\b)\s*")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+", re.UNICODE)


@lru_cache(maxsize=1)
def _known_phrases() -> dict[tuple[str, ...], bool]:
    """Stems of the trade names the CPV labels and the lexicon give, two to five words long
    (value: True when the lexicon gives it: those stay even after "for"/"to")."""
    table: dict[tuple[str, ...], bool] = {}
    for code, label in cpv_codes.labels().items():
        del code
        for part in _LABEL_SPLIT.split(label.lower()):
            words = [w for w in _WORD.findall(part) if not w.isdigit()]
            while words and words[-1] in _EMPTY_HEADS | {"work", "works"}:
                words.pop()
            key = _stems(words)
            if 2 <= len(key) <= 4:
                table.setdefault(key, False)
    for group in SYNONYM_GROUPS:
        for member in group:
            words = [w.lower() for w in _WORD.findall(member)]
            key = _stems(words)
            if 2 <= len(key) <= 5:
                table[key] = True
    return table


@lru_cache(maxsize=1)
def _phrase_words() -> frozenset[str]:
    """Stems that occur in some known phrase (a quick filter before looking one up)."""
    return frozenset(s for key in _known_phrases() for s in key)


@lru_cache(maxsize=20_000)
def _names_trade(word: str) -> bool:
    """Does this one word name a trade by itself: a CPV label says exactly it ("catering" ->
    Catering services, "events" -> Event services) or the lexicon lists it. Generic heads
    ("support", "services") name none, whatever a label says."""
    if word in WEAK_HEADS or word in _EMPTY_HEADS:
        return False
    if inference.infer(word).known:
        return True
    return (stem(word),) in _lexicon_singles()


@lru_cache(maxsize=1)
def _lexicon_singles() -> frozenset[tuple[str, ...]]:
    out = set()
    for group in SYNONYM_GROUPS:
        for member in group:
            words = _WORD.findall(member.lower())
            if len(words) == 1:
                out.add((stem(words[0]),))
    return frozenset(out)


def _vocabulary_word(word: str) -> bool:
    """A word of procurement or general English (not a typo, not a made-up word)."""
    return is_known(stem(word)) or is_known(word)


# --------------------------------------------------------------------------- places

#: East Midlands areas (as :mod:`matchers.places` names them) -> the NUTS codes the bot's
#: region menu uses for them.
REGION_CODES: dict[str, tuple[str, ...]] = {
    places.NOTTINGHAM: ("UKF14",),
    places.NOTTS: ("UKF15", "UKF16"),
    places.DERBY: ("UKF11",),
    places.DERBYS: ("UKF12", "UKF13"),
    places.LEICESTER: ("UKF21",),
    places.LEICS: ("UKF22",),
    places.RUTLAND: ("UKF22",),
    places.LINCS: ("UKF30",),
    places.NORTHANTS: ("UKF24", "UKF25"),
    places.EAST_MIDLANDS: ("UKF",),
}
#: Single words that are UK region aliases but mostly mean something else in a sentence.
_NOT_A_REGION = frozenset({"east", "eastern", "national", "midlands", "gb"})


def region_codes(name: str) -> tuple[str, ...]:
    """NUTS codes for a place name a person typed ("Notts", "East Midlands", "London")."""
    region = places.canonical_region(name)
    if region is not None and region in REGION_CODES:
        return REGION_CODES[region]
    codes = codes_for_name(name)
    return tuple(codes)


def _place_at(words: list[str], i: int) -> tuple[int, Place] | None:
    """The place name starting at word ``i`` (longest first): (words used, place)."""
    for n in range(min(5, len(words) - i), 0, -1):
        name = " ".join(words[i : i + n])
        if n == 1 and name in _NOT_A_REGION:
            continue
        region = places.canonical_region(name)
        if region is not None:
            codes = REGION_CODES.get(region, ())
            if codes:
                return n, Place(region, codes)
            return n, Place(region, ())  # a known place outside the East Midlands
        codes = codes_for_name(name)
        if codes and name not in _BREAK_WORDS:
            if set(codes) >= set(ENGLISH_CODES) or codes == ("UK",):
                return n, Place("England", (ENGLAND,))
            label = NUTS_NAMES.get(codes[0], name.title()) if len(codes) == 1 else name.title()
            return n, Place(label, tuple(codes))
    return None


_POSTCODE = re.compile(r"\b([A-Za-z]{1,2}\d{1,2}[A-Za-z]?)(?:\s*(\d[A-Za-z]{2}))?\b")


def _postcode_places(text: str) -> list[Place]:
    out = []
    for hit in places.postcode_hits(text):
        codes = REGION_CODES.get(hit.region, ())
        if codes:
            out.append(Place(hit.region, codes))
    return out


# --------------------------------------------------------------------------- tokens


@dataclass(slots=True)
class _Tok:
    surface: str  # as typed (for acronyms)
    word: str  # casefolded, apostrophes straightened
    kind: str = "word"  # word | break | place | self
    audience: bool = False  # inside "for ... / to ..." (a customer, not a trade)
    phrase_end: int = -1  # index of the last token of the known phrase starting here
    lexicon: bool = False  # that phrase comes from the lexicon
    inner: bool = False  # inside a known phrase (not its first word)


_EMOJI_OR_SYMBOL = re.compile(r"[^\w\s'’\-\"“”.,;:!?()\[\]/\\|&+•·–—]", re.UNICODE)
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]/\\|•·–—\n\"“”]|\s-\s|\s-|-\s")
_TAG = re.compile(r"<[^<>]{0,200}>")
_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]{1,200})[\"“”„«»]")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _TAG.sub(" . ", text)  # pasted HTML: a tag is never a trade
    text = text.replace("&", " and ").replace("+", " plus ")
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\n" else ch
        for ch in text
    )
    return _EMOJI_OR_SYMBOL.sub(" . ", text)


def _clauses(text: str) -> list[list[str]]:
    """Raw words of each clause (punctuation, emoji and new lines end a clause)."""
    out = []
    for piece in _CLAUSE_BREAK.split(text):
        words = _WORD.findall(piece)
        if words:
            out.append(words)
    return out


def _sentences(text: str) -> list[tuple[str, bool]]:
    """Sentences with whether each is a question."""
    out = []
    for found in re.finditer(r"[^.!?\n]+[.!?]*", text):
        sentence = found.group(0).strip()
        if not _WORD.search(sentence):
            continue
        words = [w.lower() for w in _WORD.findall(sentence)]
        asks = sentence.endswith("?") or (
            words[0] in _QUESTION_START
            or (words[0] in _QUESTION_AUX and len(words) > 1 and words[1] in _QUESTION_NEXT)
        )
        out.append((sentence, asks))
    return out


def _is_acronym(surface: str, shouted: bool) -> bool:
    return not shouted and 2 <= len(surface) <= 6 and surface.isupper() and surface.isalpha()


def _mash(word: str) -> bool:
    """Keyboard mash or not a word: no vowel, or five consonants in a row."""
    letters = re.sub(r"[^a-z]", "", word)
    if not letters:
        return True
    if not re.search(r"[aeiouy]", letters):
        return True
    return re.search(r"[bcdfghjklmnpqrstvwxz]{5,}", letters) is not None


@dataclass
class _Reading:
    terms: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    corrected: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    name: str | None = None
    #: the text is a list of short items ("community catering, school meals"): each item
    #: is a keyword as the person chose it, soft modifiers and all
    listed: bool = False


def _classify(raw: list[str], shouted: bool, reading: _Reading) -> list[_Tok]:
    """Tokens of one clause, each marked word / break / place / self."""
    if shouted:
        raw = [w.lower() for w in raw]
    lowered = [w.lower() for w in raw]
    toks: list[_Tok] = []
    i = 0
    while i < len(raw):
        surface, word = raw[i], lowered[i]
        if word.isdigit():
            toks.append(_Tok(surface, word, "break"))
            i += 1
            continue
        place = _place_at(lowered, i) if word not in _BREAK_WORDS else None
        if place is not None:
            n, found = place
            if found.codes and all(p.codes != found.codes for p in reading.places):
                reading.places.append(found)
            toks.extend(
                _Tok(s, w, "place") for s, w in zip(raw[i : i + n], lowered[i : i + n], strict=True)
            )
            i += n
            continue
        if _is_acronym(surface, shouted) and word not in _SELF:
            toks.append(_Tok(surface, word))
        elif word in _SELF:
            toks.append(_Tok(surface, word, "self"))
        elif word in _BREAK_WORDS:
            toks.append(_Tok(surface, word, "break"))
        elif word in _SOFT or word in _AUDIENCE:
            toks.append(_Tok(surface, word))
        else:
            toks.append(_Tok(surface, _spelt(word, reading)))
        i += 1
    return toks


def _spelt(word: str, reading: _Reading) -> str:
    """``catring`` -> ``catering``: an unknown word a letter or two from a known one."""
    if len(word) <= 4 or not word.isalpha() or _vocabulary_word(word):
        return word
    fixes = corrections(word, allowed_edits(word))
    # only a word of some trade's name: "catring" is catering, but a real word we do not
    # know ("trader", "healthy") must not become another ("trade", "health")
    fixes = tuple(f for f in fixes if _names_trade(f))
    if not fixes:
        return word
    reading.corrected.append((word, fixes[0]))
    return fixes[0]


#: Words that never belong to a trade's name, so a known name never spans them.
_NO_PHRASE = _PRONOUNS | _AUXILIARIES | _DETERMINERS | _ADVERBS | (_CONJUNCTIONS - {"and", "&"})


def _phrase_edge(tok: _Tok) -> bool:
    return tok.kind != "place" and tok.word not in STOPWORDS and tok.word not in _NO_PHRASE


def _mark_phrases(toks: list[_Tok]) -> None:
    """Mark the known trade names (longest first) so that they are kept whole, even when a
    word of them is one that is dropped elsewhere ("supported living", "youth work")."""
    known = _known_phrases()
    useful = _phrase_words()
    i = 0
    while i < len(toks):
        if not _phrase_edge(toks[i]) or stem(toks[i].word) not in useful:
            i += 1
            continue
        best = -1
        for j in range(min(len(toks), i + 7) - 1, i, -1):
            span = toks[i : j + 1]
            if not _phrase_edge(span[-1]) or any(t.kind == "place" for t in span):
                continue
            words = [t.word for t in span]
            if any(w in _NO_PHRASE for w in words):
                continue
            if all(w in _SOFT or w in _BREAK_WORDS for w in words):
                continue  # "high quality" says how, not what
            key = _stems(words)
            if key in known and len(key) >= 2:
                best = j
                toks[i].lexicon = known[key]
                break
        if best >= 0:
            toks[i].phrase_end = best
            for t in toks[i + 1 : best + 1]:
                t.inner = True
            for t in (toks[i], toks[best]):
                t.kind = "word"  # "social care", "supported living": a trade's name
            i = best + 1
        else:
            i += 1


def _mark_audience(toks: list[_Tok]) -> None:
    """Words after "for", "to", "in"... name who or where is served, through "and"/"or"."""
    on = False
    for tok in toks:
        if tok.inner:
            tok.audience = on
            continue
        if tok.kind == "break":
            if tok.word in _AUDIENCE_START:
                on = True
            elif tok.word not in _CONJUNCTIONS and tok.word not in _DETERMINERS:
                on = False  # "for adults | with learning disabilities"
            continue
        if tok.kind in ("word", "self"):
            tok.audience = on


#: Subjects: the word after one of them is a verb ("we clean", "I run", "who make").
_SUBJECTS = _words("i we they you he she who we'll i'll they'll we'd i'd")


def _verb_gerunds(toks: list[_Tok]) -> None:
    """ "we clean offices" -> "cleaning offices": a verb right after "we"/"I" whose -ing form
    names a trade is that trade; any other verb there is dropped."""
    for i, tok in enumerate(toks):
        if tok.kind != "word" or i == 0:
            continue
        before = [t for t in toks[:i] if not (t.kind == "break" and t.word in _ADVERBS)]
        if not before or before[-1].kind != "break" or before[-1].word not in _SUBJECTS:
            continue
        if tok.phrase_end >= 0 or tok.inner:
            continue
        gerund = _gerund(tok.word)
        if gerund is not None and _names_trade(gerund):
            tok.word = gerund
            tok.surface = gerund
            # "we clean offices and schools": what is cleaned is the customer
            for after in toks[i + 1 :]:
                if after.kind == "word" and after.word in _AUDIENCE:
                    after.audience = True
                elif not (after.kind == "break" and after.word in _CONJUNCTIONS):
                    break
        elif not _names_trade(tok.word):
            tok.kind = "break"


def _gerund(verb: str) -> str | None:
    if verb.endswith("ing") or len(verb) < 3:
        return None
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    forms = [verb + "ing"]
    if re.search(r"[^aeiou][aeiou][bdgmnprt]$", verb):
        forms.insert(0, verb + verb[-1] + "ing")
    for form in forms:
        if _vocabulary_word(form):
            return form
    return None


# --------------------------------------------------------------------------- terms

Unit = list[_Tok]


def _text(toks: list[_Tok]) -> str:
    return " ".join(
        t.surface if t.surface.isupper() and len(t.surface) > 1 else t.word for t in toks
    )


def _soft(unit: Unit) -> bool:
    return len(unit) == 1 and (unit[0].word in _SOFT or unit[0].kind == "self")


def _trim(units: list[Unit], reading: _Reading) -> list[Unit]:
    """Drop soft modifiers at the start and empty heads at the end ("local catering
    services" -> "catering"); known phrases are kept as they are."""
    while units and _soft(units[0]) and not (reading.listed and len(units) > 1):
        if units[0][0].kind == "self" and not units[0][0].audience:
            reading.dropped.append(units[0][0].word)
        units = units[1:]
    while (
        units
        and len(units[-1]) == 1
        and (units[-1][0].word in _EMPTY_HEADS or units[-1][0].kind == "self")
    ):
        if units[-1][0].kind == "self" and not units[-1][0].audience:
            reading.dropped.append(units[-1][0].word)
        units = units[:-1]
    if units and len(units[-1]) == 2 and units[-1][-1].word in _EMPTY_HEADS:
        head = units[-1][0]
        if _names_trade(head.word):  # "cleaning services" -> "cleaning"; not "day services"
            units = [*units[:-1], [head]]
    kept = []
    for unit in units:
        if len(unit) == 1 and unit[0].kind == "self":
            if not unit[0].audience:
                reading.dropped.append(unit[0].word)
        else:
            kept.append(unit)
    return kept


def _run_terms(run: list[Unit], reading: _Reading) -> list[str]:
    """The terms of one run of content words (see the module docstring, step 3)."""
    units = _trim(run, reading)
    if any(not u[0].audience for u in units):
        # "cleaning offices": the customers go, the trade stays
        units = [u for u in units if not u[0].audience]
    if not units:
        return []
    phrases = [u for u in units if len(u) > 1]
    if all(t.audience for u in units for t in u):
        return []  # who is served ("for offices and schools", "to older people")
    if not phrases:
        if len(units) == 1:
            if _single_term(units[0][0].word):
                return [_text(units[0])]
            # "outreach services": a common word is a trade with its head
            head = [u for u in run if len(u) == 1 and u[0].word in _EMPTY_HEADS]
            if head and run.index(head[0]) == len(run) - 1 and len(run) == 2:
                return [_text([units[0][0], head[0][0]])]
            return []
        if len(units) <= MAX_COMPOUND:
            return [_text([u[0] for u in units])]
        return _chunks(units)
    if len(units) == 1:
        return [_text(units[0])]
    out: list[str] = []
    for unit in units:
        trade = _names_trade(unit[0].word) and unit[0].word not in _AUDIENCE
        if len(unit) > 1 or trade:
            out.append(_text(unit))
    return out


def _single_term(word: str) -> bool:
    """May this word alone be a keyword? When it names a trade ("catering"), or is a word of
    no general use ("bushcraft"); never a customer ("schools"), a generic head ("support"),
    a word of every text ("end", "sure") or keyboard mash."""
    if word in _AUDIENCE or word in WEAK_HEADS or word in _SOFT or _mash(word):
        return False
    return _names_trade(word) or not is_common(word)


def _chunks(units: list[Unit]) -> list[str]:
    """A long run with no known name in it: its trade words alone, else its last words."""
    trades = [u for u in units if _names_trade(u[0].word)]
    if trades:
        return [_text(u) for u in trades]
    return [_text([u[0] for u in units[-2:]])]


#: Words that end an organisation's name: "Green Fingers CIC", "Bread & Roses Co-op".
_NAME_ENDS = _words("cic ltd limited llp plc cio co-op coop cooperative co-operative trust charity")


def _enterprise_name(run: list[Unit], end: _Tok, reading: _Reading) -> bool:
    """A capitalised run before "CIC", "Ltd"... that names no trade is the enterprise's own
    name: kept as a suggestion for its name, never a keyword."""
    words = [t for u in run for t in u]
    if end.word not in _NAME_ENDS or not words or len(words) > 5:
        return False
    if any(len(u) > 1 for u in run) or any(_names_trade(t.word) for t in words):
        return False
    if not all(t.surface[:1].isupper() for t in words):
        return False
    if reading.name is None:
        reading.name = " ".join([*(t.surface for t in words), end.surface])
    return True


def _clause_terms(raw: list[str], shouted: bool, reading: _Reading) -> list[str]:
    toks = _classify(raw, shouted, reading)
    _mark_phrases(toks)
    _mark_audience(toks)
    _verb_gerunds(toks)
    terms: list[str] = []
    run: list[Unit] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.phrase_end >= 0:
            # a known name is one unit; the little words inside it stay out of the term
            unit = toks[i : tok.phrase_end + 1]
            for t in unit[1:]:
                t.audience = tok.audience
            run.append(unit)
            i = tok.phrase_end + 1
            continue
        if tok.kind == "word":
            run.append([tok])
        else:
            if tok.kind == "self":
                if not tok.audience:  # "for small businesses" is not who they are
                    reading.dropped.append(tok.word)
                if _enterprise_name(run, tok, reading):
                    run = []
            terms.extend(_run_terms(run, reading))
            run = []
        i += 1
    terms.extend(_run_terms(run, reading))
    return terms


def _key(term: str) -> tuple[str, ...]:
    return tuple(sorted(_stems([w.lower() for w in _WORD.findall(term)])))


def word_count(keyword: str) -> int:
    """Words of a keyword as the matcher reads them (quotes and little words aside)."""
    return len([w for w in _WORD.findall(keyword.lower()) if w not in STOPWORDS])


def shorter(keyword: str) -> str | None:
    """A shorter keyword for a long one ("community catering for schools and events in the
    city" -> "community catering"), or None when there is nothing shorter to say."""
    inner = keyword.strip().strip("\"“”'")
    found = extract(inner)
    for term in found.terms:
        if word_count(term) <= LONG_WORDS and _key(term) != _key(inner):
            return term
    words = [w for w in _WORD.findall(inner) if w.lower() not in _BREAK_WORDS]
    if len(words) > LONG_WORDS:
        return " ".join(words[:2]).lower()
    return None


def extract(text: str) -> Extraction:
    """Read an answer to "What does your enterprise do?" (see the module docstring)."""
    normal = _normalise(text)
    reading = _Reading()
    letters = [ch for ch in _QUOTED.sub(" ", normal) if ch.isalpha()]
    shouted = bool(letters) and sum(ch.isupper() for ch in letters) > 0.8 * len(letters)
    terms: list[str] = []
    asked = False
    reading.listed = _is_list(_QUOTED.sub(" , ", normal))
    pos = 0
    # a "quoted phrase" is a keyword as it stands, in its place among the others
    for found in [*_QUOTED.finditer(normal), None]:
        end = found.start() if found is not None else len(normal)
        for sentence, question in _sentences(normal[pos:end]):
            asked = asked or question
            found_terms: list[str] = []
            for clause in _clauses(sentence):
                found_terms.extend(_clause_terms(clause, shouted, reading))
            if question:
                # a question is about the bot; keep only words that certainly name a trade
                found_terms = [t for t in found_terms if _certain(t)]
            terms.extend(found_terms)
        if found is not None:
            inner = " ".join(found.group(1).split())
            if _WORD.search(inner):
                terms.append(f'"{inner}"')
            pos = found.end()
    for place in _postcode_places(normal):
        if all(p.codes != place.codes for p in reading.places):
            reading.places.append(place)
    unique: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for term in terms:
        key = _key(term)
        if key and key not in seen:
            seen.add(key)
            unique.append(term)
    unique = unique[:MAX_TERMS]
    long = tuple(
        (t, s) for t in unique if word_count(t) > LONG_WORDS and (s := shorter(t)) is not None
    )
    if not unique:
        kind: Kind = "question" if asked else "empty"
        return Extraction(kind, (), tuple(reading.places), asked=asked, name=reading.name)
    corrected = tuple(
        (typed, read) for typed, read in reading.corrected if any(read in t for t in unique)
    )
    return Extraction(
        "terms",
        tuple(unique),
        tuple(reading.places),
        corrected,
        long,
        asked,
        tuple(dict.fromkeys(reading.dropped)),
        reading.name,
    )


def _is_list(text: str) -> bool:
    """Two or more short items (at most three words each) and no sentence: no subject,
    verb or self-description among them."""
    items = [c for c in _clauses(text.replace(" and ", " , "))]
    if len(items) < 2:
        return False
    for words in items:
        lowered = {w.lower() for w in words}
        if len(words) > MAX_COMPOUND or lowered & (_PRONOUNS | _VERBS | _SELF | _AUXILIARIES):
            return False
    return True


def _certain(term: str) -> bool:
    words = [w.lower() for w in _WORD.findall(term)]
    key = _stems(words)
    return (len(key) >= 2 and key in _known_phrases()) or (
        len(words) == 1 and _names_trade(words[0])
    )
