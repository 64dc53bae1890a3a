"""Known real words: a word in this set is never read as a typo of a keyword.

Typo tolerance must not turn one real word into another ("printing" vs "painting", "sport" vs
"short", "refuge" vs "refugee"). So a notice word only counts as a misspelling of a keyword when
it is *not* a known word itself. Known words are: every word of the CPV labels (the
vocabulary of procurement), every word of the synonym lexicon, and the common English and
public-sector words listed below (general vocabulary, not drawn from any evaluation data).

The set is fixed (it never depends on which profiles are loaded), so a profile's matches never
change because someone else subscribed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import OSA

from matchers.lexicon import lexicon_words
from matchers.text import stem, words

_COMMON = """
about above accept access account achieve across act action active activity actual add address
adult adults advance affect after again against age agency agent ago agree aid aim air all allow
almost alone along already also alter always among amount analyse analysis annual another answer
any apply approach area areas argue arise around arrange arrive art article as ask assess asset
assist attend authority available average avoid award aware away back bad bank base basic basis
bear beat because become been before begin behalf behind being believe below benefit best
better between beyond bid bidder big bill bit black board body book both box boy break bring
broad brother budget build building burden business busy buy buyer call calls came campaign can
capital card career carry case cases cash cause centre certain chain chair chance change charge
check chief child children choice choose church circle cities citizen city civic claim class
clear client clients close club coast code cold collect college come commission commit common
community company compare complete concern condition consider contact contain content continue
contract contracts control cost costs could council count country county couple course court
cover create credit crime cross culture current customer cut cycle daily damage data date
daughter day days deal death debt decide decision deep defence define degree deliver delivered
demand depart describe design detail develop device differ direct director district divide doctor
document does domain done door down draft draw drive during duty each early earn east easy
economy edge education effect effort either elect element else employ employer enable end energy
enjoy enough ensure enter entire entry equal estate even event events every evidence exact
example exist expect expert explain express extend extra face fact factor fail fair fall family
far fast father fear feature fee feed feel few field figure file fill final finance find fine
finish fire firm first fit five fix floor focus follow food force form formal former forward
four frame framework free friend from front full fund funding further future gain game general
get girl give given glass goal good govern grant great green ground group grow growth guide half
hand handle happen hard have head hear heart help her here high him his history hold home hope
host hour house how however human idea identify image impact import improve include income
increase indeed index industry inform initial input inside instead intend interest into invest
involve issue item items job join just keep key kind know labour lack land large last late later
law lay lead leader learn least leave left legal less let letter level life light like likely
limit line link list listen little live local long look lose loss lot love low made main major
make man manage many map mark market matter may mean measure media meet member men method might
mind minute miss model modern moment money month more most mother move much must name nation
national nature near need network never new news next night none north note nothing notice now
number offer office officer often old once one only open option order other others outcome
output over own owner page paid paper parent parents part partner party pass past path patient
pattern pay payment peace people per period person phase place plan planning plant play please
point police policy poor port portal post potter poster power practice prepare present press
price prime prior private process produce product profit program project property propose
protect provide provider public purpose put quality quarter question quick quite raise range
rate rather reach read ready real reason receive recent record reduce refer refugee refugees
region relate remain remove report require research resource respond rest result return review
rich right rise risk road role room round route rule run safe sale same save say scale scheme
school score season seat second section sector secure see seek seem sell send sense series
serve service set seven share shift short should show side sign similar simple since single
site size skill small social society soft some son sort source south space speak special spend
spot staff stage stand standard start state stay step still stock stop store story street
strong structure student study subject success such suggest summer supplier supply support sure
system table take talk target task team tell tenant tender term test than that their them
then theory there these they thing think third this those though three through throughout time
today together total toward town track trade train transfer treat trial true trust try turn type
under unit until upon user value various very view visit voice wait walk wall want war watch
water way wear week well west what when where whether which while white whole whom whose why
wide will win within without woman women word work worker world would write year yes yet young
youth zone abused abuser academy accommodation adviser advisers advisor advocate agreed allocated
ambulance applicant appointed appropriate assessment assurance bespoke borough cabinet carer
carers charity commissioning compliance contractor contractors councils dwelling eligible
estimated evaluation expression facilitate facility funded guidance hospital households
implementation incumbent individuals invitation lot lots maintenance mobilisation municipal
neighbourhood obligations onboarding outreach pathway pilot portfolio premises procure
procurement provision quotation quote quotes requirement requirements resident residents
sessions shortlist specification stakeholder stakeholders submission subcontract sustainable
tenancy tenancies tendering tenders threshold trustee vulnerable wellbeing workshop workshops
"""


@lru_cache(maxsize=1)
def _cpv_words() -> frozenset[str]:
    data = resources.files("matchers").joinpath("data/cpv_2008_en.json").read_text("utf-8")
    labels: dict[str, str] = json.loads(data)
    out: set[str] = set()
    for label in labels.values():
        out.update(words(label))
    return frozenset(out)


@lru_cache(maxsize=1)
def known_stems() -> frozenset[str]:
    """Stems of every known word (the typo test compares stems)."""
    vocab = set(_COMMON.split()) | _cpv_words() | lexicon_words()
    return frozenset(stem(w) for w in vocab) | frozenset(vocab)


@lru_cache(maxsize=1)
def _raw_by_letter() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for w in sorted(set(_COMMON.split()) | _cpv_words() | lexicon_words()):
        if w.isalpha() and len(w) > 3:
            table.setdefault(w[0], []).append(w)
    return table


@lru_cache(maxsize=50_000)
def corrections(word: str, max_edits: int) -> tuple[str, ...]:
    """Known words that a misspelt ``word`` was probably meant to be, closest first.

    Only letters dropped, added or swapped count ("catring", "schol", "maintenace",
    "interpertting"): a changed letter is as likely to be another real word we do not know
    ("grazing" is not "grading"), so it is never corrected. Same first letter required.
    """
    if max_edits <= 0 or not word:
        return ()
    candidates = _raw_by_letter().get(word[0], [])
    found = process.extract(
        word, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=None
    )
    ranked: list[tuple[int, str]] = []
    for w, dist, _ in found:
        d = int(dist)
        gap = abs(len(w) - len(word))
        if gap == d or (d == 1 and gap == 0 and sorted(w) == sorted(word)):
            ranked.append((d, w))
    return tuple(w for _, w in sorted(ranked))


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(_COMMON.split())


def is_common(word: str) -> bool:
    """True for the general English and public-sector words above ("end", "sure", "worker"):
    words of every text, which name no trade on their own."""
    return word in _common()


def is_known(word_stem: str) -> bool:
    """True when ``word_stem`` is (the stem of) a real word, so never a typo."""
    return word_stem in known_stems()
