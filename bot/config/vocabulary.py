"""The fixed words a config may use: feed kinds, stages, topics, notice kinds, days.

They live apart from the schema so that messages ("is not one of ...") and docs list
exactly the values the validators accept, from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

FeedKind = Literal["find_a_tender", "contracts_finder", "file"]
FEED_KINDS: tuple[str, ...] = get_args(FeedKind)

#: The official API of each remote feed kind: a feed's ``url`` when it names none.
FEED_URLS: Mapping[str, str] = MappingProxyType(
    {
        "find_a_tender": "https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages",
        "contracts_finder": (
            "https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search"
        ),
    }
)

#: Values of Contracts Finder's ``stages`` search parameter.
CfStage = Literal["planning", "tender", "award", "implementation"]
CF_STAGES: tuple[str, ...] = get_args(CfStage)

#: Notice stages a profile can ask for (see ``feeds.notice.Stage``).
NoticeStage = Literal["planning", "tender", "award", "contract", "cancelled"]
NOTICE_STAGES: tuple[str, ...] = get_args(NoticeStage)

#: Kinds of notice a subscriber can choose per delivery (``[alerts.types]``): the
#: Procurement Act 2023 notice families as the coming matcher names them.
NoticeKind = Literal[
    "pipeline",
    "engagement",
    "planned",
    "tender",
    "dm_intention",
    "dm_established",
    "dm_modified",
    "dm_ceased",
    "direct_award",
    "award",
    "contract",
    "performance",
    "change",
    "termination",
    "cancelled",
    "payments",
]
NOTICE_KINDS: tuple[str, ...] = get_args(NoticeKind)

#: Enquiry topic ids (fixed in DESIGN.md).
Topic = Literal[
    "tendering",
    "legal",
    "finance",
    "funding",
    "social_value",
    "start_up",
    "employment",
    "general",
]
TOPICS: tuple[str, ...] = get_args(Topic)

Frequency = Literal["instant", "daily", "weekly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

TelegramMode = Literal["polling", "webhook"]
TELEGRAM_MODES: tuple[str, ...] = get_args(TelegramMode)

ReportRecipients = Literal["advisers", "admins", "both"]
REPORT_RECIPIENTS: tuple[str, ...] = get_args(ReportRecipients)

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def day_index(word: str) -> int:
    """``"Mon"``, ``"monday"`` (any case) -> 0; :class:`ValueError` for anything else."""
    low = word.strip().lower()
    for i, name in enumerate(WEEKDAYS):
        if low in (name.lower(), WEEKDAY_NAMES[i]):
            return i
    raise ValueError(f"{word!r} is not a day like 'Mon'")
