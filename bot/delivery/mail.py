"""Putting outgoing emails together: rendered content + the right headers for each kind.

One :class:`Mailer` per process, built by the composition root from the config: the brand,
the From and Reply-To addresses, the domain of Message-IDs, the bounce address and the
signed links every list mail carries (manage your alerts, unsubscribe, the action under
each notice). Alerts, digests and nudges are list mail (``List-Id``, one-click unsubscribe,
``Feedback-ID``); enquiry messages and verification codes are personal mail (threading
headers, no list headers). Every mail gets a bounce tag and, with ``[email]
bounce_address``, a VERP return path ``bounces+<tag>@domain``.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from bot.delivery.email import ListHeaders, build_message
from bot.kinds import digest_period
from bot.links import Links, bounce_tag
from bot.render.email import Actions, email_alert, email_digest, email_message, nudge_email
from bot.render.model import AlertView, Attachment, Brand, ForecastView, RenderedEmail
from bot.render.phrases import CLOSING_SOON
from storage.subscribers import Recipient

__all__ = ["ACTION_LABELS", "MailSettings", "Mailer"]

#: The links under each notice in an email, in order.
ACTION_LABELS = (
    ("relevant", "Relevant"),
    ("not_relevant", "Not relevant"),
    ("remind", "Remind me"),
    ("ask", "Ask an adviser about this"),
)


@dataclass(frozen=True)
class MailSettings:
    from_address: str = "SEEM contract alerts <alerts@bestbot.invalid>"
    reply_to: str | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    closing_soon: timedelta = CLOSING_SOON
    list_id: str | None = None
    brand: Brand = field(default_factory=Brand)
    #: VERP base (``bounces@example.org``); None: the envelope sender is the From address.
    bounce_address: str | None = None
    feedback_id_prefix: str | None = None
    #: Whether to put "Manage your alerts" links (the web settings page) in list mail.
    web_pages: bool = True

    @property
    def from_email(self) -> str:
        return email.utils.parseaddr(self.from_address)[1] or "alerts@bestbot.invalid"

    @property
    def domain(self) -> str:
        return self.from_email.rpartition("@")[2] or "bestbot.invalid"

    @property
    def feedback_prefix(self) -> str:
        """The first field of ``Feedback-ID``: configured, else the short brand name."""
        if self.feedback_id_prefix:
            return self.feedback_id_prefix
        return re.sub(r"[^a-z0-9]", "", self.brand.short.lower()) or "bestbot"


class Mailer:
    def __init__(self, settings: MailSettings, links: Links) -> None:
        self.settings = settings
        self.links = links

    # ------------------------------------------------------------------ headers

    def return_path(self, tag: str) -> str | None:
        """``bounces+<tag>@domain`` from ``bounce_address``, or None (use From)."""
        base = self.settings.bounce_address
        if not base:
            return None
        local, _, domain = base.rpartition("@")
        local = local.split("+", 1)[0]
        return f"{local}+{tag}@{domain}"

    def tag(self, address: str, public_id: str | None = None) -> str:
        return bounce_tag(self.links.signer, address, public_id)

    def feedback_id(self, mail_type: str, frequency: str = "") -> str:
        """``seem:alert:daily:bestbot`` (Gmail's feedback loop groups complaints by it)."""
        parts = [self.settings.feedback_prefix, mail_type, frequency or "none", "bestbot"]
        return ":".join(re.sub(r"[^A-Za-z0-9._-]", "-", p) for p in parts)

    def _list(self, recipient: Recipient, mail_type: str = "alert") -> ListHeaders:
        return ListHeaders(
            unsubscribe_url=self.links.unsubscribe_url(recipient),
            unsubscribe_mailto=f"mailto:{self.settings.from_email}?subject=unsubscribe",
            list_id=self.settings.list_id,
            feedback_id=self.feedback_id(mail_type, recipient.frequency),
        )

    def _list_mail(
        self, rendered: RenderedEmail, recipient: Recipient, now: datetime, mail_type: str
    ) -> EmailMessage:
        assert recipient.email
        tag = self.tag(recipient.email, recipient.public_id)
        return build_message(
            rendered,
            to=recipient.email,
            from_address=self.settings.from_address,
            reply_to=self.settings.reply_to,
            message_id_domain=self.settings.domain,
            date=now,
            list_headers=self._list(recipient, mail_type),
            return_path=self.return_path(tag),
            tag=tag,
            default_subject=self.settings.brand.name,
        )

    # ------------------------------------------------------------------ links

    def manage_url(self, recipient: Recipient, now: datetime) -> str | None:
        return self.links.manage_url(recipient, now) if self.settings.web_pages else None

    def actions(self, recipient: Recipient, views: Sequence[AlertView], now: datetime) -> Actions:
        """The action links under each new notice (updates and reminders carry none)."""
        if not self.settings.web_pages:
            return {}
        return {
            v.delivery_id: [
                (label, self.links.action_url(recipient, v.delivery_id, action, now))
                for action, label in ACTION_LABELS
            ]
            for v in views
            if v.kind not in ("update", "reminder") and v.delivery_id > 0
        }

    # ------------------------------------------------------------------ list mail

    def alerts(
        self,
        recipient: Recipient,
        views: Sequence[AlertView],
        now: datetime,
        forecasts: Sequence[ForecastView] = (),
    ) -> tuple[EmailMessage, RenderedEmail]:
        """One alert, or a digest/group of several, to an email subscriber (a weekly digest
        may carry re-tender ``forecasts``)."""
        tz = self.settings.timezone
        unsubscribe = self.links.unsubscribe_url(recipient)
        manage = self.manage_url(recipient, now)
        telegram = self.links.telegram_link(recipient, now)
        brand = self.settings.brand
        actions = self.actions(recipient, views, now)
        period = digest_period(
            recipient.frequency, [v.notice_kind for v in views if v.kind == "alert"]
        )
        if period is None and any(v.kind == "maybe" for v in views):  # digests only
            period = "weekly" if recipient.frequency == "instant" else recipient.frequency
        single = len(views) == 1 and views[0].kind != "maybe"
        if single and recipient.frequency == "instant" and not forecasts:
            rendered = email_alert(
                views[0],
                now,
                tz,
                unsubscribe_url=unsubscribe,
                manage_url=manage,
                telegram_url=telegram,
                brand=brand,
                actions=actions,
            )
            kind = "alert"
        else:
            rendered = email_digest(
                views,
                now,
                tz,
                unsubscribe_url=unsubscribe,
                manage_url=manage,
                telegram_url=telegram,
                brand=brand,
                actions=actions,
                period=period or recipient.frequency,
                closing_soon=self.settings.closing_soon,
                forecasts=forecasts,
            )
            kind = "digest"
        return self._list_mail(rendered, recipient, now, kind), rendered

    def nudge(self, recipient: Recipient, checked: int, now: datetime) -> RenderedEmail:
        return nudge_email(
            checked,
            unsubscribe_url=self.links.unsubscribe_url(recipient),
            manage_url=self.manage_url(recipient, now),
            telegram_url=self.links.telegram_link(recipient, now),
            brand=self.settings.brand,
        )

    def list_headers(self, recipient: Recipient, mail_type: str = "nudge") -> dict[str, str]:
        """The list headers of ``recipient`` as stored with a queued message."""
        headers = self._list(recipient, mail_type)
        return {
            "unsubscribe_url": headers.unsubscribe_url,
            "mailto": headers.unsubscribe_mailto,
            "feedback_id": headers.feedback_id or "",
            "ref": recipient.public_id,
        }

    # ------------------------------------------------------------------ personal mail

    def personal(
        self,
        rendered: RenderedEmail,
        *,
        to: str,
        message_id: str | None = None,
        in_reply_to: str | None = None,
        reply_to: str | None = None,
        list_headers: dict[str, str] | None = None,
        now: datetime | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> EmailMessage:
        """A queued message as an email (enquiry message, code, nudge, report)."""
        headers = None
        ref = None
        if list_headers and list_headers.get("unsubscribe_url"):
            headers = ListHeaders(
                unsubscribe_url=list_headers["unsubscribe_url"],
                unsubscribe_mailto=list_headers.get("mailto")
                or f"mailto:{self.settings.from_email}?subject=unsubscribe",
                list_id=self.settings.list_id,
                feedback_id=list_headers.get("feedback_id") or self.feedback_id("message"),
            )
        if list_headers:
            ref = list_headers.get("ref") or None
        tag = self.tag(to, ref) if to else None
        return build_message(
            rendered,
            to=to,
            from_address=self.settings.from_address,
            reply_to=reply_to or self.settings.reply_to,
            message_id_domain=self.settings.domain,
            message_id=message_id,
            in_reply_to=in_reply_to,
            date=now,
            list_headers=headers,
            return_path=self.return_path(tag) if tag else None,
            tag=tag,
            default_subject=self.settings.brand.name,
            attachments=attachments,
        )

    def new_message_id(self, tag: str = "bestbot") -> str:
        return email.utils.make_msgid(idstring=tag, domain=self.settings.domain)

    @staticmethod
    def plain(subject: str, text: str) -> RenderedEmail:
        return email_message(subject, text)
