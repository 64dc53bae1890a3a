"""The values rendering takes and gives: one notice as one subscriber sees it, and messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "AlertView",
    "Attachment",
    "Brand",
    "Button",
    "ForecastView",
    "LotLine",
    "Photo",
    "RenderedEmail",
    "TelegramMessage",
]


@dataclass(frozen=True)
class LotLine:
    """One lot of a notice as an alert names it ("Lot 3 — Day support, £120,000, suitable
    for VCSEs")."""

    id: str
    title: str = ""
    value_amount: float | None = None
    value_min: float | None = None
    currency: str | None = None
    suitable_sme: bool | None = None
    suitable_vcse: bool | None = None
    reserved: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertView:
    """One notice as one subscriber sees it, for one delivery."""

    delivery_id: int
    notice_id: int
    kind: str  # "alert" | "update" | "reminder"
    title: str
    url: str | None
    buyer: str | None
    value_amount: float | None
    value_min: float | None
    currency: str | None
    deadline: datetime | None  # aware
    regions: tuple[str, ...]  # NUTS codes
    suitable_sme: bool | None
    suitable_vcse: bool | None
    reasons: tuple[str, ...]  # the matcher's short reasons
    keywords: tuple[str, ...]  # the subscriber's keywords that matched
    changes: Mapping[str, tuple[Any, Any]]  # kind == "update": field -> (old, new)
    days_before: int | None = None  # kind == "reminder"
    description: str = ""
    #: What kind of chance it is (``feeds.kinds.KINDS`` id): the alert's first line.
    notice_kind: str = "tender"
    #: ``deadline`` is the first deadline that applies (``feeds.notice.first_deadline``):
    #: a two-stage tender's request to take part, an engagement's close. These are the
    #: dates behind it, and the expected tender date of a pipeline or planned notice.
    tender_deadline: datetime | None = None
    expression_of_interest: datetime | None = None
    engagement_end: datetime | None = None
    future_notice: datetime | None = None
    #: The lots that fitted the profile, best first, and how many lots the notice has.
    lots: tuple[LotLine, ...] = ()
    lot_count: int = 0
    #: Reservations of the whole contract (``feeds.notice.RESERVATIONS`` codes).
    reserved: tuple[str, ...] = ()
    #: Set when an alert already sent is shown again, edited in place: what has changed
    #: since (field -> (old, new), as in ``changes``).
    edit: Mapping[str, tuple[Any, Any]] | None = None


@dataclass(frozen=True)
class Brand:
    """The one name bestbot goes by (``[brand] name``) and its short form for subjects
    ("SEEM alert: …")."""

    name: str = "SEEM contract alerts"
    short: str = "SEEM"


@dataclass(frozen=True)
class ForecastView:
    """A contract in the subscriber's trade and region whose end is 6-12 months away: it
    is likely to be tendered again (a forecast, not a notice), with who holds it now."""

    notice_id: int
    award_id: str
    title: str
    buyer: str | None
    supplier: str | None
    end_date: datetime  # aware
    value: float | None
    url: str | None

    @property
    def key(self) -> tuple[int, str]:
        return (self.notice_id, self.award_id)


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Photo:
    """A picture sent after a message's text (a report's chart): PNG bytes and a caption."""

    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file carried by an email: inline (shown in the HTML as ``cid:<content_id>``) or
    attached (a CSV to open in a spreadsheet)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None

    @property
    def inline(self) -> bool:
        return self.content_id is not None


@dataclass(frozen=True)
class TelegramMessage:
    """An HTML message for ``parse_mode=HTML`` with its inline buttons.

    ``shown`` names the deliveries the message shows in full, when it is made of several:
    what did not fit is *not* shown, so the delivery loop sends it in the next message
    rather than marking it sent (empty: every delivery given was shown). ``photos`` follow
    the text (one photo, or an album of 2-10).

    ``edit_of``: not a new message but new buttons (``buttons``, often none) for the
    earlier message with that id — how an adviser's old buttons are taken away when the
    enquiry they act on has moved on, through the same outbox as every message — or, with
    ``edit_text``, its new text and buttons.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    shown: tuple[int, ...] = ()
    edit_of: int | None = None
    photos: tuple[Photo, ...] = ()
    #: With ``edit_of``: replace that message's text too (editMessageText), not only its
    #: buttons — how an alert already sent is corrected in place when its notice changes.
    edit_text: bool = False


@dataclass(frozen=True)
class RenderedEmail:
    subject: str  # one line, no CR/LF
    text: str
    html: str
    shown: tuple[int, ...] = ()
