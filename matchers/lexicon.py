"""A small built-in procurement lexicon: the other names buyers use for the same service.

Enterprises describe what they do in their own plain words ("grass cutting"); buyers write
notices in commissioning language ("grounds maintenance"). Each group below lists names that a
commissioner would treat as the same service, from general knowledge of UK public-sector
procurement. It is not tuned to any particular notice.

A keyword that equals one member of a group (compared after normalisation and stemming) also
searches for every other member; the alert then says which name was found. Groups are
symmetric. Acronyms written in capitals stay case-sensitive (see :mod:`matchers.keywords`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from matchers.text import STOPWORDS, tokenize, tokenize_phrase

#: Synonym groups. Keep entries specific: a group joins names of *one* service, never a
#: service and its broader field (so "support" is never a synonym of anything).
CORE_GROUPS: tuple[tuple[str, ...], ...] = (
    # grounds, environment, waste
    ("grass cutting", "grounds maintenance", "grass mowing", "landscape maintenance"),
    ("tree surgery", "arboricultural services", "tree works"),
    ("litter picking", "litter collection", "street cleansing"),
    ("waste collection", "refuse collection", "bin collection"),
    ("house clearance", "property clearance", "void clearance", "home clearance"),
    ("white goods", "household appliances", "domestic appliances", "electrical appliances"),
    ("furniture packs", "furnished tenancies", "furniture provision", "furnished tenancy"),
    ("furniture", "furnishings"),
    ("WEEE", "waste electrical and electronic equipment"),
    # care and health
    ("home care", "domiciliary care", "homecare", "care at home", "home support"),
    ("care home", "residential care", "nursing home"),
    ("supported living", "supported housing", "supported accommodation"),
    ("day centre", "day care centre", "day services", "day opportunities"),
    (
        "older people",
        "elderly",
        "older adults",
        "later life",
        "older persons",
        "welfare services for the elderly",
        "seniors",
        "ageing well",
    ),
    (
        "carers support",
        "support for carers",
        "carer support",
        "unpaid carers",
        "carers breaks",
        "carers break",
        "breaks for carers",
        "carers respite",
        "respite for carers",
        "respite care",
    ),
    ("befriending", "companionship", "loneliness", "social isolation"),
    ("dementia", "alzheimers", "memory cafe", "memory support"),
    ("mental health", "emotional wellbeing"),
    ("drug and alcohol", "substance misuse", "substance use", "drugs and alcohol", "addiction"),
    ("harm reduction", "needle exchange", "needle and syringe"),
    ("learning disabilities", "learning disability", "learning difficulties"),
    ("SEND", "special educational needs"),
    (
        "physical activity",
        "physical exercise",
        "exercise classes",
        "exercise referral",
        "active lifestyles",
        "health walks",
    ),
    ("leisure", "recreation", "leisure centre"),
    (
        "active travel",
        "walking and cycling",
        "cycling and walking",
        "cycle training",
        "Bikeability",
    ),
    ("road safety", "road safety education", "pedestrian training"),
    # violence and safeguarding
    ("domestic abuse", "domestic violence", "intimate partner violence", "coercive control"),
    ("IDVA", "independent domestic violence adviser", "independent domestic violence advisor"),
    ("ISVA", "independent sexual violence adviser", "independent sexual violence advisor"),
    ("sexual violence", "sexual assault", "sexual abuse", "rape"),
    ("refuge", "safe accommodation", "womens refuge", "safe house"),
    ("homelessness", "rough sleeping", "rough sleepers"),
    (
        "tenancy sustainment",
        "tenancy support",
        "floating support",
        "housing related support",
        "housing support",
    ),
    # advice and advocacy
    ("advice", "advice services", "information and advice", "advice and guidance"),
    ("welfare benefits", "welfare rights", "benefits advice", "income maximisation"),
    ("debt advice", "money advice", "debt counselling", "money guidance", "financial inclusion"),
    ("advocacy", "independent advocacy", "IMHA", "IMCA"),
    ("information service", "information and advice", "signposting"),
    # children and families
    (
        "childcare",
        "child care",
        "nursery",
        "nurseries",
        "child daycare",
        "child day care",
        "out of school club",
        "after school club",
        "breakfast club",
        "wraparound care",
    ),
    ("early years", "early childhood", "preschool", "pre school", "pre-school education"),
    (
        "holiday activities",
        "holiday activities and food",
        "holiday club",
        "holiday clubs",
        "HAF",
        "holiday scheme",
        "holiday provision",
        "holiday camps",
        "childrens holiday camp",
    ),
    (
        "play scheme",
        "playscheme",
        "play schemes",
        "holiday play",
        "play provision",
        "play services",
        "play sessions",
        "playwork",
        "play and youth",
    ),
    ("parenting", "parenting support", "parenting programmes", "parenting programme"),
    ("youth work", "youth services", "youth provision", "youth club"),
    ("NEET", "not in education employment or training"),
    # employment and training
    ("employment support", "employability", "back to work", "into work"),
    (
        "staff training",
        "workforce development",
        "employee training",
        "staff development",
        "continuing professional development",
        "CPD",
    ),
    ("learning and development", "training and development"),
    ("first aid training", "first aid courses", "first aid course"),
    ("safeguarding training", "safeguarding courses", "safeguarding course"),
    ("apprenticeships", "apprenticeship"),
    # language
    ("interpreting", "interpretation services", "interpreters"),
    ("translation", "translation services", "translators"),
    ("BSL", "British Sign Language"),
    ("sign language", "BSL", "British Sign Language"),
    # print, design, marketing, digital
    (
        "printing",
        "print services",
        "print management",
        "printed matter",
        "print and design",
        "print and mail",
    ),
    (
        "graphic design",
        "graphic designer",
        "graphic designers",
        "typesetting",
        "desktop publishing",
        "design and artwork",
    ),
    ("signage", "signs and wayfinding", "wayfinding", "signs", "signboards", "sign boards"),
    ("leaflets", "flyers", "brochures", "pamphlets"),
    (
        "marketing materials",
        "promotional materials",
        "publicity materials",
        "marketing collateral",
        "advertising material",
        "promotional items",
    ),
    ("website", "web site", "web design", "world wide web site design"),
    (
        "web development",
        "website development",
        "website design",
        "web design",
        "world wide web site design",
    ),
    ("digital services", "digital transformation", "digital delivery"),
    ("user research", "user experience research", "usability testing", "user testing"),
    ("CMS", "content management system", "content management software"),
    ("IT", "ICT", "information technology"),
    # facilities
    ("facilities management", "facility management", "FM services", "soft FM", "hard FM"),
    (
        "caretaking",
        "caretaker",
        "janitorial",
        "caretaking services",
        "site caretaker",
        "premises officer",
        "locking and unlocking",
    ),
    ("key holding", "keyholding", "keyholder", "alarm response", "locking and unlocking"),
    (
        "security guarding",
        "manned guarding",
        "security guards",
        "security officers",
        "security services",
        "guarding",
        "guard services",
        "static guarding",
        "manned security",
    ),
    ("stewarding", "event stewarding", "crowd management", "crowd control"),
    ("concierge", "front of house", "reception services", "receptionists"),
    ("porter", "portering", "porterage"),
    ("cleaning", "janitorial services", "cleaning services"),
    ("catering", "catering services", "food services"),
    ("school meals", "school catering", "school food"),
    ("community transport", "dial a ride"),
)

#: Groups for trades the development set has no profile for (the catering co-ops, community
#: transport, alternative education and care providers SEEM supports, and their neighbours),
#: written from general knowledge before looking at any notice they match
#: (benchmarks/study_lexicon.py lists what they add).
TRADE_GROUPS: tuple[tuple[str, ...], ...] = (
    # food (catering co-operatives, community cafes)
    ("meals on wheels", "community meals", "meals at home", "home delivered meals"),
    ("event catering", "hospitality catering", "conference catering", "buffet catering"),
    ("community cafe", "social enterprise cafe", "cafe operator", "cafe operation"),
    ("food bank", "emergency food", "food parcels", "food aid"),
    # transport
    (
        "community transport",
        "dial a ride",
        "demand responsive transport",
        "accessible transport",
    ),
    (
        "school transport",
        "home to school transport",
        "SEN transport",
        "school bus services",
        "pupil transport",
    ),
    ("minibus", "minibus hire", "minibus services", "minibuses"),
    ("patient transport", "non emergency patient transport", "NEPTS"),
    # alternative education and young people
    (
        "alternative provision",
        "alternative education",
        "alternative education provision",
        "education otherwise than at school",
        "education other than at school",
        "EOTAS",
    ),
    ("tutoring", "tuition", "tutors", "one to one tuition"),
    ("mentoring", "mentors", "peer mentoring", "mentoring services"),
    # care
    ("reablement", "re-ablement", "intermediate care"),
    ("respite", "respite care", "short breaks", "respite services"),
    ("extra care", "extra care housing", "extra care scheme"),
    ("end of life care", "palliative care", "hospice care"),
    ("social prescribing", "link workers", "community connectors"),
    # homes and housing
    ("handyperson", "handyman", "handyperson service", "small repairs service", "minor repairs"),
    (
        "home adaptations",
        "aids and adaptations",
        "disabled adaptations",
        "disabled facilities grant",
        "minor adaptations",
    ),
    ("energy advice", "fuel poverty", "affordable warmth", "home energy advice"),
    # environment
    ("gardening", "garden maintenance", "gardening services", "horticultural services"),
    ("recycling", "recycling services", "reuse and recycling"),
    ("office cleaning", "commercial cleaning", "contract cleaning"),
    ("window cleaning", "window cleaners"),
    ("laundry", "laundry services", "linen services"),
    # employment and community
    (
        "supported employment",
        "job coaching",
        "individual placement and support",
        "supported internships",
    ),
    ("volunteering", "volunteer management", "volunteer coordination", "volunteer recruitment"),
    ("community engagement", "public engagement", "community consultation", "resident engagement"),
)

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = CORE_GROUPS + TRADE_GROUPS


def _key(phrase: str) -> tuple[str, ...]:
    """Comparable form of a phrase: stems of its meaningful words; acronyms kept as typed."""
    out: list[str] = []
    for tok in tokenize_phrase(phrase):
        if tok.surface.isupper() and len(tok.surface) >= 2:
            out.append(tok.surface)
        elif tok.lower not in STOPWORDS:
            out.append(tok.stem)
    return tuple(out)


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, ...], tuple[str, ...]]:
    table: dict[tuple[str, ...], list[str]] = {}
    for group in SYNONYM_GROUPS:
        for member in group:
            bucket = table.setdefault(_key(member), [])
            for other in group:
                if _key(other) != _key(member) and other not in bucket:
                    bucket.append(other)
    return {k: tuple(v) for k, v in table.items()}


def synonyms(phrase: str) -> tuple[str, ...]:
    """Other names for ``phrase`` (empty when the lexicon does not know it)."""
    return _index().get(_key(phrase), ())


def lexicon_words() -> frozenset[str]:
    """Every casefolded word the lexicon uses (they are real words, never typos)."""
    return frozenset(t.lower for group in SYNONYM_GROUPS for m in group for t in tokenize(m))


# --- generic words inside a phrase -----------------------------------------------------------

#: Modifiers that only say *whose* the service is ("staff training" is training for an
#: organisation's people). Buyers title such notices by the head noun alone ("Safeguarding
#: Training", "Training services") and say elsewhere that it is for staff.
WEAK_MODIFIERS: frozenset[str] = frozenset(
    ["staff", "workforce", "employee", "employees", "workplace", "team", "colleague"]
)
#: The organisational context such a phrase needs somewhere in the notice.
WORKFORCE_WORDS: tuple[str, ...] = (
    "staff",
    "workforce",
    "employee",
    "employees",
    "personnel",
    "colleagues",
    "workers",
    "managers",
    "practitioners",
    "professionals",
    "volunteers",
    "team",
    "teams",
)
#: Heads that only say "some service for X" ("carers support", "play scheme"): any of them
#: names the same thing ("carers service", "play provision").
#: "X services" is left alone: there "services" is the trade suffix and X says it all
#: ("digital services" is not "digital support").
WEAK_HEADS: tuple[str, ...] = ("support", "service", "services", "provision", "scheme", "programme")
_SWAPPABLE_HEADS = frozenset(["support", "provision", "scheme", "programme"])


@dataclass(frozen=True, slots=True)
class HeadVariant:
    text: str
    context: frozenset[str]  # stems, one of which the notice must contain; empty = none needed


def head_variants(phrase: str) -> tuple[HeadVariant, ...]:
    """Other wordings of a phrase whose modifier or head is generic.

    ``"staff training"`` -> ``training`` (in the title, with a workforce word in the notice);
    ``"carers support"`` -> ``carers service``, ``carers provision``...
    """
    tokens = [t for t in tokenize_phrase(phrase) if t.lower not in STOPWORDS]
    if len(tokens) < 2 or any(t.surface.isupper() and len(t.surface) > 1 for t in tokens):
        return ()
    out: list[HeadVariant] = []
    first, last = tokens[0].lower, tokens[-1].lower
    if first in WEAK_MODIFIERS:
        rest = " ".join(t.lower for t in tokens[1:])
        context = frozenset(t.stem for w in WORKFORCE_WORDS for t in tokenize(w))
        out.append(HeadVariant(rest, context))
    if last in _SWAPPABLE_HEADS:
        rest = " ".join(t.lower for t in tokens[:-1])
        if rest.split()[0] not in WEAK_MODIFIERS:
            heads = dict.fromkeys(h for h in WEAK_HEADS if _key(h) != _key(last))
            out.extend(HeadVariant(f"{rest} {h}", frozenset()) for h in heads)
    return tuple(out)
