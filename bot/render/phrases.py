"""Values, dates, places and changes in plain UK English ("closes Fri 13 Feb, 12:00 — 9 days
left", "£10,000–£50,000", "Nottingham"), shared by Telegram, email and the chat.

Times are shown in the subscriber's own time zone; region codes never reach a person (an
unknown one is shown as it is, cleaned, so nothing silently disappears).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.kinds import follow_up_of, is_withdrawn
from bot.render.model import AlertView, LotLine
from bot.render.text import clean
from feeds.kinds import KINDS
from feeds.notice import RESERVATIONS
from matchers.regions import NUTS_NAMES

_REASON_MAX = 160
_REASONS_SHOWN = 5
_REGIONS_SHOWN = 4
CLOSING_SOON = timedelta(days=7)


def region_name(code: str) -> str:
    """A readable name for a NUTS (or ITL) code; East Midlands in detail, elsewhere NUTS1.

    An unknown code is shown as it is (cleaned), so nothing silently disappears.
    """
    raw = clean(code, 40)
    norm = raw.upper().replace(" ", "")
    if norm.startswith("TL") and len(norm) >= 3:  # ITL codes name the same areas
        norm = "UK" + norm[2:]
    if not norm.startswith("UK"):
        return raw
    if norm.startswith("UKF"):
        for size in range(len(norm), 2, -1):
            name = NUTS_NAMES.get(norm[:size])
            if name is not None:
                return name
        return raw
    if norm == "UK":
        return NUTS_NAMES["UK"]
    return NUTS_NAMES.get(norm[:3], raw)


def region_names(codes: Iterable[str], shown: int = _REGIONS_SHOWN) -> str:
    names: list[str] = []
    for code in codes:
        name = region_name(code)
        if name and name not in names:
            names.append(name)
    if len(names) > shown:
        return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
    return ", ".join(names)


# --- values, dates ------------------------------------------------------------------------------

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        return None
    return number


def money(amount: float, currency: str | None) -> str:
    whole = abs(amount - round(amount)) < 0.005
    digits = f"{round(amount):,}" if whole else f"{amount:,.2f}"
    code = clean(currency, 3).upper() if currency else "GBP"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{digits}" if symbol else f"{digits} {code}"


def value_phrase(amount: object, minimum: object, currency: str | None) -> str:
    """ "£250,000", "£10,000–£50,000", "from £10,000" or "value not stated"."""
    high = _number(amount)
    low = _number(minimum)
    if high == 0:
        high = None  # Contracts Finder writes 0 when the buyer gave no value
    if low == 0:
        low = None
    if high is None and low is None:
        return "value not stated"
    if high is None:
        assert low is not None
        return f"from {money(low, currency)}"
    if low is None or money(low, currency) == money(high, currency):
        return money(high, currency)
    low, high = min(low, high), max(low, high)
    return f"{money(low, currency)}–{money(high, currency)}"


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def day_month(local: datetime, now_local: datetime, weekday: bool = True) -> str:
    text = f"{local.day} {_MONTHS[local.month - 1]}"
    if weekday:
        text = f"{_DAYS[local.weekday()]} {text}"
    if local.year != now_local.year:
        text += f" {local.year}"
    return text


def days_phrase(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def deadline_phrase(deadline: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """ "closes Fri 13 Feb, 12:00 — 9 days left", "closes today, 17:00", "closed"...

    Days are counted between calendar dates in the subscriber's time zone, so a deadline at
    09:00 tomorrow is "1 day left" even at 23:00 today.
    """
    if deadline is None:
        return "no closing date given"
    due = aware(deadline).astimezone(tz)
    now_local = aware(now).astimezone(tz)
    if due <= now_local:
        return "closed"
    clock = f"{due:%H:%M}"
    days = (due.date() - now_local.date()).days
    if days == 0:
        return f"closes today, {clock}"
    if days == 1:
        return f"closes tomorrow, {clock}"
    return f"closes {day_month(due, now_local)}, {clock} — {days_phrase(days)} left"


def deadline_short(deadline: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    if deadline is None:
        return "no closing date"
    due = aware(deadline).astimezone(tz)
    now_local = aware(now).astimezone(tz)
    if due <= now_local:
        return "closed"
    days = (due.date() - now_local.date()).days
    if days == 0:
        return f"closes today {due:%H:%M}"
    if days == 1:
        return f"closes tomorrow {due:%H:%M}"
    return f"closes {day_month(due, now_local)} ({days_phrase(days)})"


def suitability(view: AlertView) -> str:
    parts: list[str] = []
    for flag, who in ((view.suitable_sme, "SMEs"), (view.suitable_vcse, "VCSEs")):
        if flag is True:
            parts.append(f"suitable for {who} ✓")
        elif flag is False:
            parts.append(f"not marked as suitable for {who}")
    return " · ".join(parts)


_CPV_REASON = re.compile(r"^CPV\s+(\d{2,8})(?:-\d)?(?:\s+(.*?))?(?:\s+\(from “(.+)”\))?$")
_CODED_PLACE = re.compile(r"^(.*?)\s*\(((?:UK|TL)[A-Z0-9]{0,4})\)$")


def _person_reason(reason: str) -> tuple[str, str]:
    """(kind, wording) of one matcher reason as a person reads it: no CPV numbers, no NUTS
    codes ("CPV 55524000 School catering services (from “school meals”)" → "category
    “School catering services” (from “school meals”)"; "East Midlands (UKF14)" → "in
    Nottingham")."""
    cpv = _CPV_REASON.match(reason)
    if cpv is not None:
        label, source = cpv.group(2), cpv.group(3)
        text = f"category “{label}”" if label else "a contract category you follow"
        return "cpv", text + (f" (from “{source}”)" if source else "")
    place = _CODED_PLACE.match(reason)
    if place is not None:
        return "place", f"in {region_name(place.group(2))}"
    if reason in ("UK-wide", "England-wide"):
        return "place", reason
    return "other", reason


def person_reasons(reasons: Sequence[str]) -> list[str]:
    """The matcher's reasons in words: one CPV reason at most (the one saying which keyword
    led to it, if any), codes replaced by names, nothing said twice."""
    out: list[str] = []
    cpv: str | None = None
    for raw in reasons:
        reason = clean(raw, _REASON_MAX)
        if not reason:
            continue
        kind, text = _person_reason(reason)
        if kind == "cpv":
            if cpv is None or ("(from " in text and "(from " not in cpv):
                if cpv in out:
                    out[out.index(cpv)] = text
                else:
                    out.append(text)
                cpv = text
            continue
        if text not in out:
            out.append(text)
    return out


def reasons_line(reasons: Sequence[str]) -> str:
    cleaned = person_reasons(reasons)
    if len(cleaned) > _REASONS_SHOWN:
        extra = len(cleaned) - _REASONS_SHOWN
        cleaned = [*cleaned[:_REASONS_SHOWN], f"and {extra} more"]
    return "; ".join(cleaned)


def why_short(reasons: Sequence[str], limit: int = 120) -> str:
    """The one-line "why" of an item in a group or digest: the first reasons that fit."""
    parts: list[str] = []
    for reason in person_reasons(reasons):
        if parts and len("; ".join([*parts, reason])) > limit:
            break
        parts.append(reason)
    return clean("; ".join(parts), limit)


# --- kinds, expected dates, lots, reservations -------------------------------------------------

#: A planned procurement notice lets the buyer shorten the tender to 10 days (Procurement
#: Act 2023, s. 54 and reg. 19): the reason to prepare now.
PLANNED_MINIMUM_DAYS = 10


def _on(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "12 Mar" (with the year when it is not this year's)."""
    return day_month(aware(moment).astimezone(tz), aware(now).astimezone(tz), weekday=False)


def _month(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "Sep" (with the year when it is not this year's): a pipeline's date is a plan."""
    local, now_local = aware(moment).astimezone(tz), aware(now).astimezone(tz)
    text = _MONTHS[local.month - 1]
    return text if local.year == now_local.year else f"{text} {local.year}"


def _open(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and aware(moment) > aware(now)


def kind_line(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """The first line of every alert: what kind of chance it is, and what to do by when.

    "Have your say by 12 Mar — market engagement" (UK2), "Tender expected about Sep —
    pipeline" (UK1), "Tender may allow only 10 days — planned procurement" (UK3), "Apply to
    join — dynamic market" (UK13, UK14), "Bid by 7 Mar — tender" or "Request to take part
    by 2 Nov — tender" (UK4, the first stage of a two-stage tender). Plain text."""
    kind = view.notice_kind
    if kind == "tender":
        if view.deadline is not None and not _open(view.deadline, now):
            return "Closed — tender"
        if view.expression_of_interest is not None and view.deadline is not None:
            return f"Request to take part by {_on(view.deadline, now, tz)} — tender"
        if view.deadline is not None:
            return f"Bid by {_on(view.deadline, now, tz)} — tender"
        return "Open for bids — tender"
    if kind == "engagement":
        if view.deadline is not None and not _open(view.deadline, now):
            return "Engagement closed — market engagement"
        if view.deadline is not None:
            return f"Have your say by {_on(view.deadline, now, tz)} — market engagement"
        return "Have your say — market engagement"
    if kind == "pipeline":
        if _open(view.future_notice, now):
            assert view.future_notice is not None
            return f"Tender expected about {_month(view.future_notice, now, tz)} — pipeline"
        return "Tender expected later — pipeline"
    if kind == "planned":
        return f"Tender may allow only {PLANNED_MINIMUM_DAYS} days — planned procurement"
    if kind == "dm_intention":
        return "Apply to join when it opens — dynamic market"
    if kind == "dm_established":
        return "Apply to join — dynamic market"
    if kind == "dm_modified":
        return "Rules changed — dynamic market"
    if kind == "dm_ceased":
        return "Closed — dynamic market"
    if kind == "cancelled":
        return "Cancelled — procurement"
    if kind == "unknown":  # not classified: say what is known, the closing date
        if view.deadline is not None and _open(view.deadline, now):
            return f"Closes {_on(view.deadline, now, tz)} — notice"
        return "Closed — notice" if view.deadline is not None else "Notice — no closing date given"
    known = KINDS.get(kind)
    return known.name if known is not None else "Notice"


def expected_phrase(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """ "tender expected about 1 Jun; bids likely due about 6 Jul" for a pipeline or planned
    notice (its dates are the buyer's plan, never a deadline); "" otherwise."""
    if view.notice_kind not in ("pipeline", "planned"):
        return ""
    parts: list[str] = []
    if _open(view.future_notice, now):
        assert view.future_notice is not None
        when = (
            _month(view.future_notice, now, tz)
            if view.notice_kind == "pipeline"
            else _on(view.future_notice, now, tz)
        )
        parts.append(f"tender expected about {when}")
    if view.notice_kind == "planned" and _open(view.tender_deadline, now):
        assert view.tender_deadline is not None
        parts.append(f"bids likely due about {_on(view.tender_deadline, now, tz)}")
    if not parts:
        return "no tender date given yet"
    return "; ".join(parts)


def later_deadline_phrase(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """ "then tenders close 5 Dec" when the first deadline is a request to take part."""
    first, tender = view.deadline, view.tender_deadline
    if first is None or tender is None or aware(tender) <= aware(first):
        return ""
    return f"then tenders close {_on(tender, now, tz)}"


def reserved_phrase(codes: Sequence[str]) -> str:
    """ "Reserved for supported employment providers" ("" when not reserved)."""
    words = [RESERVATIONS.get(code, f"reserved ({clean(code, 40)})") for code in codes]
    if not words:
        return ""
    text = "; ".join(dict.fromkeys(words))
    return text[:1].upper() + text[1:]


def _suited(sme: bool | None, vcse: bool | None) -> str:
    who = [w for w, flag in (("SMEs", sme), ("VCSEs", vcse)) if flag is True]
    return f"suitable for {' and '.join(who)}" if who else ""


def lot_name(lot: LotLine) -> str:
    """ "Lot 3" for a number, the id as given otherwise ("LOT-0003")."""
    ident = clean(lot.id, 20)
    return f"Lot {ident}" if ident.isdigit() else ident


def lot_phrase(lot: LotLine) -> str:
    """ "Lot 3 — Day support, £120,000, suitable for VCSEs, reserved for …"."""
    parts = [clean(lot.title, 80)]
    value = value_phrase(lot.value_amount, lot.value_min, lot.currency)
    if value != "value not stated":
        parts.append(value)
    parts.append(_suited(lot.suitable_sme, lot.suitable_vcse))
    reserved = reserved_phrase(lot.reserved)
    parts.append(reserved[:1].lower() + reserved[1:])
    detail = ", ".join(p for p in parts if p)
    return f"{lot_name(lot)} — {detail}" if detail else lot_name(lot)


def lots_more(view: AlertView, shown: int) -> str:
    """ "and 2 more lots fit" / "1 of 3 lots fits" — what the lot lines leave out."""
    more = len(view.lots) - shown
    if more > 0:
        return f"and {more} more {'lot fits' if more == 1 else 'lots fit'}"
    return ""


# --- updates -----------------------------------------------------------------------------------


def _parse_when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return aware(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return aware(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _short_date(moment: datetime, other: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """ "12 Mar" (with the time when ``other`` falls on the same day)."""
    local = moment.astimezone(tz)
    now_local = aware(now).astimezone(tz)
    text = day_month(local, now_local, weekday=False)
    if other is not None and other.astimezone(tz).date() == local.date():
        text += f", {local:%H:%M}"
    return text


def _value_of(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    currency = raw.get("currency")
    phrase = value_phrase(
        raw.get("amount"), raw.get("min"), currency if isinstance(currency, str) else None
    )
    return None if phrase == "value not stated" else phrase


_STAGE_WORDS = {"award": "has been awarded", "complete": "is complete"}

_FOLLOW_UP_WORDS = {
    "out_now": "the tender is out now",
    "open_now": "the dynamic market is open to join now",
    "cancelled": "was cancelled",
    "closed": "the dynamic market has closed",
}
_KIND_CHANGE_WORDS = {
    "pipeline": "now in the buyer's pipeline: a tender is expected in the coming months",
    "engagement": "the buyer wants suppliers' views now",
    "planned": (
        "a planned procurement notice is out: the tender may allow only "
        f"{PLANNED_MINIMUM_DAYS} days"
    ),
    "tender": "is open for bids now",
    "dm_intention": "a dynamic market is coming",
    "dm_established": "the dynamic market is open to join now",
    "dm_modified": "the dynamic market's rules or scope have changed",
    "award": "has been awarded",
    "direct_award": "is to be awarded directly, without competition",
    "contract": "the contract has been signed",
}


#: The kinds whose notices have each date: when a procurement changes kind, a date that
#: its new kind does not have simply went away (an engagement's close, once the tender is
#: out), and saying so would only confuse.
_DATES_OF = {
    "deadline": frozenset({"tender", "dm_established", "dm_modified", "unknown"}),
    "expression_of_interest": frozenset({"tender", "dm_established", "dm_modified", "unknown"}),
    "engagement_end": frozenset({"engagement"}),
}


def _pair(changes: Mapping[str, object], name: str) -> tuple[object, object] | None:
    pair = changes.get(name)
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return pair[0], pair[1]
    return None


def is_cancelled(view: AlertView) -> bool:
    return is_withdrawn(view.changes)


def change_phrases(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    """What changed, in words: "deadline moved from 12 Mar to 19 Mar", "was cancelled"..."""
    return changes_in_words(view.changes, now, tz)


def changes_in_words(changes: Mapping[str, object], now: datetime, tz: ZoneInfo) -> list[str]:
    """:func:`change_phrases` of a changes mapping (an update's, or an in-place edit's)."""
    phrases: list[str] = []
    follow_up = follow_up_of(changes)
    if follow_up in _FOLLOW_UP_WORDS:
        phrases.append(_FOLLOW_UP_WORDS[follow_up])
    kind = _pair(changes, "kind")
    for name in changes:
        both = _pair(changes, name)
        if both is None:
            phrases.append(f"{clean(name, 30)} changed")
            continue
        old, new = both
        if kind is not None and name in _DATES_OF and kind[1] not in _DATES_OF[name]:
            continue  # a date the notice's new kind does not have: not news
        if name == "kind":
            words = _KIND_CHANGE_WORDS.get(str(new))
            if words and follow_up == "changed" and words not in phrases:
                phrases.append(words)
        elif name == "stage":
            if new == "cancelled" or "kind" in changes or follow_up != "changed":
                continue
            words = _STAGE_WORDS.get(str(new))
            phrases.append(words or f"moved to the {clean(new, 30)} stage")
        elif name in ("expression_of_interest", "engagement_end"):
            what = "requests to take part" if name == "expression_of_interest" else "engagement"
            before, after = _parse_when(old), _parse_when(new)
            if before is not None and after is not None:
                phrases.append(
                    f"{what} close date moved from {_short_date(before, after, now, tz)} "
                    f"to {_short_date(after, before, now, tz)}"
                )
            elif after is not None:
                verb = "close" if name == "expression_of_interest" else "closes"
                phrases.append(f"{what} {verb} on {_short_date(after, None, now, tz)}")
            elif before is not None:
                phrases.append(f"{what} close date removed")
        elif name == "deadline":
            before, after = _parse_when(old), _parse_when(new)
            if follow_up in ("out_now", "open_now"):
                # what the planned notice gave was only the date the buyer expected
                if after is not None:
                    phrases.append(f"bids close {_short_date(after, None, now, tz)}")
            elif before is not None and after is not None:
                phrases.append(
                    f"deadline moved from {_short_date(before, after, now, tz)} "
                    f"to {_short_date(after, before, now, tz)}"
                )
            elif after is not None:
                phrases.append(f"closing date set to {_short_date(after, None, now, tz)}")
            elif before is not None and new is None:
                phrases.append("closing date removed")
            else:
                phrases.append("deadline changed")
        elif name == "value":
            before_v, after_v = _value_of(old), _value_of(new)
            if before_v and after_v and before_v != after_v:
                phrases.append(f"value changed from {before_v} to {after_v}")
            elif after_v and not before_v:
                phrases.append(f"value now {after_v}")
            elif before_v and not after_v:
                phrases.append("value no longer stated")
            else:
                phrases.append("value changed")
        elif name == "title":
            was = clean(old, 80)
            phrases.append(f"title changed (was “{was}”)" if was else "title changed")
        else:
            phrases.append(f"{clean(name, 30)} changed")
    return phrases or ["details changed"]


def _reminder_days(view: AlertView, now: datetime, tz: ZoneInfo) -> int | None:
    if view.days_before is not None and view.days_before >= 0:
        return view.days_before
    if view.deadline is None:
        return None
    due = aware(view.deadline).astimezone(tz)
    return max(0, (due.date() - aware(now).astimezone(tz).date()).days)


def reminder_lead(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    if view.deadline is not None and aware(view.deadline) <= aware(now):
        return "Closed"
    days = _reminder_days(view, now, tz)
    if days is None:
        return "Closing soon"
    if days == 0:
        return "Closes today"
    return f"Closes in {days_phrase(days)}"


def closing_key(view: AlertView, now: datetime) -> tuple[int, datetime]:
    """Sort key: open deadlines soonest first, then no deadline, then already closed."""
    far = datetime.max.replace(tzinfo=UTC)
    if view.deadline is None:
        return (1, far)
    due = aware(view.deadline)
    if due <= aware(now):
        return (2, due)
    return (0, due)


def counts(views: Sequence[AlertView]) -> str:
    new = sum(1 for v in views if v.kind not in ("update", "reminder", MAYBE))
    maybes = sum(1 for v in views if v.kind == MAYBE)
    updates = sum(1 for v in views if v.kind == "update")
    reminders = sum(1 for v in views if v.kind == "reminder")
    parts: list[str] = []
    if new:
        parts.append("1 new opportunity" if new == 1 else f"{new:,} new opportunities")
    if updates:
        parts.append("1 update" if updates == 1 else f"{updates:,} updates")
    if reminders:
        parts.append("1 reminder" if reminders == 1 else f"{reminders:,} reminders")
    if maybes:
        parts.append("1 worth a look" if maybes == 1 else f"{maybes:,} worth a look")
    return ", ".join(parts) or "nothing new"


MAYBE = "maybe"
#: The heading of the "worth a look" matches (the maybe tier) in a digest.
MAYBE_HEADING = "You might also consider"


def maybe_part(views: Sequence[AlertView], now: datetime) -> list[AlertView]:
    """The "worth a look" matches of a digest, soonest closing first (never instant)."""
    return sorted((v for v in views if v.kind == MAYBE), key=lambda v: closing_key(v, now))


def digest_parts(
    views: Sequence[AlertView], now: datetime, closing_soon: timedelta = CLOSING_SOON
) -> tuple[list[AlertView], list[AlertView], list[AlertView]]:
    """Closing soon (open, within ``closing_soon``; reminders too), new, updated."""
    soon: list[AlertView] = []
    new: list[AlertView] = []
    updated: list[AlertView] = []
    moment = aware(now)
    for view in views:
        if view.kind == "update":
            updated.append(view)
            continue
        if view.kind == MAYBE:  # its own section: :func:`maybe_part`
            continue
        due = aware(view.deadline) if view.deadline is not None else None
        if view.kind == "reminder" or (due is not None and moment < due <= moment + closing_soon):
            soon.append(view)
        else:
            new.append(view)
    soon.sort(key=lambda v: closing_key(v, now))
    new.sort(key=lambda v: closing_key(v, now))
    return soon, new, updated


def period_title(period: str) -> str:
    """ "Your daily digest"; alerts that simply arrived together are not a digest."""
    label = clean(period, 30) or "daily"
    if label == "instant":
        return "New opportunities for you"
    return f"Your {label} digest"


def nudge_text(checked: int) -> str:
    """The weekly "nothing matched" nudge. Plain text that is also safe Telegram HTML."""
    count = max(0, int(checked))
    noun = "notice" if count == 1 else "notices"
    return f"We checked {count:,} {noun} this week; none matched — widen your keywords?"


FORECAST_HEADING = "Coming up for re-tender (a forecast)"
FORECAST_NOTE = (
    "These contracts in your trade and area end in 6 to 12 months and are usually "
    "tendered again: a forecast from the award notices, not an open opportunity."
)


def forecast_phrase(supplier: str | None, end: datetime, tz: ZoneInfo, value: float | None) -> str:
    """``"held by Acme Ltd until 31 Mar 2026 · £120,000"``."""
    local = aware(end).astimezone(tz)
    held = f"held by {supplier}" if supplier else "current supplier not stated"
    text = f"{held} until {local.day} {_MONTHS[local.month - 1]} {local.year}"
    return f"{text} · {money(value, 'GBP')}" if value else text
