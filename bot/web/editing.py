"""Changing a subscription from a web form: the same rules as the chat, in page words.

Every change goes through the chat's own readers and checks (:mod:`bot.chat.text`:
keyword splitting, lengths, money, quiet hours; :func:`bot.chat.account.profile_problem`:
the matcher must accept the profile), so a form can never store what a chat command
would refuse. Each function changes the rows it is given and returns what to tell the
person, as plain sentences (the template escapes them); ``ok`` is False when nothing
could be saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.chat import regions_menu
from bot.chat.account import profile_problem
from bot.chat.kinds_menu import RESERVED_CHOICES
from bot.chat.text import (
    DAY_NAMES,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    InputError,
    clean,
    keyword_key,
    parse_quiet,
    parse_value,
    sort_new_words,
    split_keywords,
    value_range,
)
from bot.kinds import KIND_GROUPS, KindGroup, clean_kinds_off, group_on
from matchers import regions as nuts
from storage.chat import touch
from storage.models import ProfileRow, SubscriberRow

__all__ = [
    "Note",
    "add_words",
    "kinds_on",
    "remove_word",
    "set_delivery",
    "set_filters",
    "set_kinds",
    "set_regions",
]

LIMITS = f"Up to {MAX_KEYWORDS} keywords of up to {MAX_KEYWORD_CHARS} characters each."
SHOWN = 5


@dataclass
class Note:
    """What a form did, for the page."""

    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


def _quoted(words: Iterable[str]) -> str:
    listed = list(words)
    text = ", ".join(f"“{clean(w)[:40]}”" for w in listed[:SHOWN])
    return text + (f" and {len(listed) - SHOWN} more" if len(listed) > SHOWN else "")


def add_words(profile: ProfileRow, text: str, *, exclude: bool = False) -> Note:
    """Add keywords (or exclusions) typed in a box: commas, new lines or "and" between them,
    "quotes" for an exact phrase — exactly as ``/add`` reads them."""
    note = Note()
    split = split_keywords(text)
    current = list(profile.exclude if exclude else profile.keywords)
    sorted_words = sort_new_words(current, split.good)
    added, already, over = sorted_words.added, sorted_words.already, sorted_words.over
    noun = "exclusions" if exclude else "keywords"
    if added:
        _set_words(profile, current + added, exclude)
        problem = profile_problem(profile)
        if problem is not None:
            _set_words(profile, current, exclude)
            return Note(False, [f"Sorry, that could not be saved: {problem}."])
        touch(profile)
        note.add(f"Added {len(added)}: {_quoted(added)}.")
    if already:
        note.add(f"Already there: {_quoted(already)}.")
    if over:
        note.add(f"Not added: you can have at most {MAX_KEYWORDS} {noun}. Remove some first.")
    if split.too_long:
        note.add(f"Too long (at most {MAX_KEYWORD_CHARS} characters): {_quoted(split.too_long)}.")
    if split.unsearchable:
        note.add(f"No letters or digits to search for: {_quoted(split.unsearchable)}.")
    if not added:
        note.ok = False
        if not note.lines:
            note.add(f"No {noun} found in that. Separate them with commas. {LIMITS}")
    return note


def _set_words(profile: ProfileRow, words: list[str], exclude: bool) -> None:
    if exclude:
        profile.exclude = words
    else:
        profile.keywords = words


def remove_word(profile: ProfileRow, word: str, *, exclude: bool = False) -> Note:
    current = list(profile.exclude if exclude else profile.keywords)
    key = keyword_key(word)
    kept = [k for k in current if keyword_key(k) != key]
    if len(kept) == len(current):
        return Note(False, [f"“{clean(word)[:40]}” is not in the list."])
    _set_words(profile, kept, exclude)
    if profile_problem(profile) is not None:
        _set_words(profile, current, exclude)
        return Note(
            False,
            [
                "You need at least one keyword (or a CPV code), so it was kept. Add another "
                "first, or pause your alerts."
            ],
        )
    touch(profile)
    removed = [k for k in current if keyword_key(k) == key]
    return Note(True, [f"Removed {_quoted(removed)}."])


def set_regions(profile: ProfileRow, keys: Iterable[str]) -> Note:
    """The ticked areas; codes typed in the chat for other regions are kept."""
    chosen = [regions_menu.BY_KEY[k] for k in keys if k in regions_menu.BY_KEY]
    local = {c for a in regions_menu.EVERY_AREA for c in a.codes}
    others = [c for c in profile.regions if c not in local]
    if regions_menu.ENGLAND in chosen:
        codes = [nuts.ENGLAND]
    elif regions_menu.ALL_EM in chosen:
        codes = [*others, "UKF"]
    else:
        codes = list(others)
        for area in chosen:
            codes.extend(c for c in area.codes if c not in codes)
    profile.regions = codes
    touch(profile)
    return Note(True, [f"Regions saved: {regions_menu.names(codes)}."])


def set_filters(profile: ProfileRow, form: Mapping[str, str]) -> Note:
    """Value range ("10k 500k", "50k", "any"), VCSE-only and SME-only."""
    text = clean(form.get("value", ""))
    try:
        low, high = parse_value(text or "any")
    except InputError:
        return Note(
            False,
            [
                f"“{text[:40]}” is not a value range. Write e.g. “10k 500k” (from £10,000 to "
                "£500,000), “50k” (at least £50,000) or “any”."
            ],
        )
    profile.min_value, profile.max_value = low, high
    profile.vcse_only = form.get("vcse_only") == "on"
    profile.sme_only = form.get("sme_only") == "on"
    touch(profile)
    suited = [w for w, on in (("VCSE", profile.vcse_only), ("SME", profile.sme_only)) if on]
    only = f"; only {' and '.join(suited)}-suitable notices" if suited else ""
    return Note(True, [f"Saved: {value_range(low, high)}{only}."])


def kinds_on(profile: ProfileRow) -> list[tuple[KindGroup, bool]]:
    """Each kind group of /types and whether it reaches this subscriber."""
    off = clean_kinds_off(profile.kinds_off or ())
    return [(group, group_on(group, off)) for group in KIND_GROUPS]


def set_kinds(profile: ProfileRow, keys: Iterable[str], reserved: Iterable[str]) -> Note:
    """The ticked kind groups (every other group is switched off) and reservations asked
    for — what /types sets in the chat."""
    wanted = set(keys)
    off = [kind for group in KIND_GROUPS if group.key not in wanted for kind in group.kinds]
    allowed = {code for code, _, _ in RESERVED_CHOICES}
    profile.kinds_off = off
    profile.reserved = [code for code in dict.fromkeys(reserved) if code in allowed]
    touch(profile)
    on = [group.label for group in KIND_GROUPS if group.key in wanted]
    lines = [f"Saved. Kinds of notice: {', '.join(on) if on else 'none (follow-ups only)'}."]
    if profile.reserved:
        names = " or ".join(n for c, n, _ in RESERVED_CHOICES if c in profile.reserved)
        lines.append(f"Only contracts reserved for {names}.")
    return Note(True, lines)


def set_delivery(sub: SubscriberRow, form: Mapping[str, str]) -> Note:
    """How often, when, quiet hours, channels and pause; all or nothing."""
    frequency = form.get("frequency", sub.frequency)
    if frequency not in ("instant", "daily", "weekly"):
        return Note(False, ["Choose instant, daily or weekly."])
    try:
        hour = int(form.get("digest_hour", str(sub.digest_hour)))
        day = int(form.get("weekly_day", str(sub.weekly_day)))
    except ValueError:
        return Note(False, ["Choose a digest hour and day from the lists."])
    if not (0 <= hour <= 23 and 0 <= day <= 6):
        return Note(False, ["Choose a digest hour and day from the lists."])
    quiet_text = clean(form.get("quiet_hours", ""))
    quiet: str | None = None
    if quiet_text and quiet_text.lower() not in ("default", "the service default"):
        try:
            quiet = parse_quiet(quiet_text)
        except InputError:
            return Note(
                False,
                [
                    f"“{quiet_text[:40]}” is not quiet hours. Write e.g. “21:00-07:00”, “off”, "
                    "or leave it empty for the service default."
                ],
            )
    email_on = form.get("channel_email") == "on" and bool(sub.email and sub.email_verified)
    telegram_on = form.get("channel_telegram") == "on" and sub.telegram_chat_id is not None
    if not (email_on or telegram_on) and form.get("paused") != "on":
        return Note(
            False,
            [
                "Choose at least one way to get alerts, or tick “Pause all alerts” "
                "(to stop everything, use the unsubscribe link in any email)."
            ],
        )
    sub.frequency = frequency
    sub.digest_hour, sub.weekly_day = hour, day
    sub.quiet_hours = quiet
    sub.email_active, sub.telegram_active = email_on, telegram_on
    sub.paused = form.get("paused") == "on"
    if sub.paused:
        how = "Alerts paused: nothing is sent until you untick “Pause all alerts”."
    elif frequency == "instant":
        how = "Alerts come as soon as a match appears (outside quiet hours)."
    elif frequency == "daily":
        how = f"One daily digest at {hour:02d}:00."
    else:
        how = f"One weekly digest on {DAY_NAMES[day]}s at {hour:02d}:00."
    return Note(True, [f"Saved. {how}"])
