"""Reading subscriber files for ``bestbot subscribers import``: profile JSON or CSV.

Every row is validated before anything is stored, and an error names the row
and the field, so SEEM staff can fix a spreadsheet of a hundred enterprises
without guessing. CSV columns: ``name, email, telegram_id, frequency,
keywords, exclude, cpv, regions, min_value, max_value, vcse_only, sme_only``;
list columns are separated by ``;`` (or ``|``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from bot.kinds import CHOOSABLE, clean_kinds_off
from matchers.profile import ProfileError, parse_profile
from storage.subscribers import SubscriberInput

FREQUENCIES = ("instant", "daily", "weekly")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
LIST_COLUMNS = ("keywords", "exclude", "cpv", "regions", "stages", "reserved", "kinds_off")
MAX_FILE_BYTES = 20 * 1024 * 1024


class SubscriberFileError(ValueError):
    """A subscriber file can't be imported; the message names the row and field."""


def read_subscriber_file(path: str | Path) -> list[SubscriberInput]:
    """Parse and validate a whole file (JSON list or CSV), or raise with one clear line."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise SubscriberFileError(f"{file}: larger than 20 MB; split it into smaller files")
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubscriberFileError(f"{file}: not UTF-8 text (save the file as UTF-8)") from None
    except OSError as exc:
        raise SubscriberFileError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise SubscriberFileError(f"{file}: the file is empty")
    if text.lstrip()[:1] in "[{":
        return _from_json(file, text)
    return _from_csv(file, text)


def _from_json(file: Path, text: str) -> list[SubscriberInput]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubscriberFileError(
            f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(data, list):
        raise SubscriberFileError(f"{file}: expected a JSON list of subscriber objects")
    return [_validate(item, f"{file}: subscriber {n}") for n, item in enumerate(data, 1)]


def _from_csv(file: Path, text: str) -> list[SubscriberInput]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "email" not in fields and "telegram_id" not in fields:
        raise SubscriberFileError(
            f"{file}: a CSV needs a header row with an 'email' or 'telegram_id' column"
        )
    out = []
    for n, row in enumerate(reader, 2):
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                raise SubscriberFileError(f"{file}: line {n}: more values than header columns")
            key = key.strip().lower()
            value = (value or "").strip()
            if key in LIST_COLUMNS:
                item[key] = [v.strip() for v in re.split(r"[;|]", value) if v.strip()]
            elif value != "":
                item[key] = value
        out.append(_validate(item, f"{file}: line {n}"))
    if not out:
        raise SubscriberFileError(f"{file}: the CSV has a header but no subscribers")
    return out


def _validate(item: Any, where: str) -> SubscriberInput:
    if not isinstance(item, dict):
        raise SubscriberFileError(f"{where}: expected an object with name, email, keywords…")
    email = _email(item.get("email"), where)
    telegram = _telegram(item.get("telegram_id"), where)
    if email is None and telegram is None:
        raise SubscriberFileError(f"{where}: field 'email': give an email or a telegram_id")
    frequency = str(item.get("frequency") or "instant").strip().lower()
    if frequency not in FREQUENCIES:
        raise SubscriberFileError(
            f"{where}: field 'frequency': {frequency!r} is not instant, daily or weekly"
        )
    profile_in = dict(item)
    profile_in["id"] = str(item.get("id") or email or telegram)
    for flag in ("vcse_only", "sme_only", "local_only"):
        if isinstance(profile_in.get(flag), str):
            profile_in[flag] = profile_in[flag].strip().lower() in {"1", "true", "yes", "y"}
    for number in ("min_value", "max_value"):
        if isinstance(profile_in.get(number), str):
            try:
                profile_in[number] = float(profile_in[number].replace(",", "").lstrip("£"))
            except ValueError:
                raise SubscriberFileError(
                    f"{where}: field {number!r}: {profile_in[number]!r} is not a number"
                ) from None
    try:
        profile = parse_profile(profile_in)
    except ProfileError as exc:
        raise SubscriberFileError(f"{where}: field {exc.field!r}: {exc.problem}") from None
    name = item.get("name")
    # Set only when the file says: a re-import must not undo a choice made in the chat.
    chosen: dict[str, Any] = {}
    if item.get("reserved") not in (None, "", []):
        chosen["reserved"] = list(profile.reserved)
    if item.get("kinds_off") not in (None, "", []):
        chosen["kinds_off"] = _kinds_off(item.get("kinds_off"), where)
    return SubscriberInput(
        name=str(name).strip()[:200] if name else None,
        email=email,
        telegram_chat_id=telegram,
        frequency=frequency,
        profile={
            **chosen,
            "keywords": list(profile.keywords),
            "exclude": list(profile.exclude),
            "cpv": list(profile.cpv),
            "regions": list(item.get("regions") or []),
            "stages": list(item.get("stages") or []),
            "min_value": profile.min_value,
            "max_value": profile.max_value,
            "vcse_only": profile.vcse_only,
            "sme_only": profile.sme_only,
            "local_only": profile.local_only,
        },
    )


def _kinds_off(value: Any, where: str) -> list[str]:
    """Kinds switched off (``pipeline;planned``): only kinds a subscriber may switch off."""
    items = value if isinstance(value, list) else [value]
    kinds = [str(k).strip() for k in items if str(k).strip()]
    bad = [k for k in kinds if k not in CHOOSABLE]
    if bad:
        known = ", ".join(sorted(CHOOSABLE))
        raise SubscriberFileError(
            f"{where}: field 'kinds_off': {bad[0][:40]!r} is not a kind one can switch off "
            f"(one of: {known})"
        )
    return clean_kinds_off(kinds)


def _email(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not EMAIL_RE.match(text):
        raise SubscriberFileError(f"{where}: field 'email': {text[:80]!r} is not an email address")
    return text.lower()


def _telegram(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise SubscriberFileError(
            f"{where}: field 'telegram_id': {str(value)[:40]!r} is not a Telegram chat id"
        ) from None
