"""Putting outgoing emails together: rendered content + the right headers for each kind.

One :class:`Mailer` per process, built by the composition root from the config: the From
and Reply-To addresses, the domain of Message-IDs and the signed links every list mail
carries (unsubscribe, "change your alerts"). Alerts, digests and nudges are list mail
(one-click unsubscribe headers); enquiry messages and verification codes are personal
mail (threading headers, no list headers).
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from bot.delivery.email import ListHeaders, build_message
from bot.links import Links
from bot.render.email import email_alert, email_digest, email_message, nudge_email
from bot.render.model import AlertView, Attachment, ForecastView, RenderedEmail
from bot.render.phrases import CLOSING_SOON
from storage.subscribers import Recipient

__all__ = ["MailSettings", "Mailer"]


@dataclass(frozen=True)
class MailSettings:
    from_address: str = "SEEM contract alerts <alerts@bestbot.invalid>"
    reply_to: str | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    closing_soon: timedelta = CLOSING_SOON
    list_id: str | None = None

    @property
    def from_email(self) -> str:
        return email.utils.parseaddr(self.from_address)[1] or "alerts@bestbot.invalid"

    @property
    def domain(self) -> str:
        return self.from_email.rpartition("@")[2] or "bestbot.invalid"


class Mailer:
    def __init__(self, settings: MailSettings, links: Links) -> None:
        self.settings = settings
        self.links = links

    def _list(self, recipient: Recipient) -> ListHeaders:
        return ListHeaders(
            unsubscribe_url=self.links.unsubscribe_url(recipient),
            unsubscribe_mailto=f"mailto:{self.settings.from_email}?subject=unsubscribe",
            list_id=self.settings.list_id,
        )

    def _list_mail(
        self, rendered: RenderedEmail, recipient: Recipient, now: datetime
    ) -> EmailMessage:
        assert recipient.email
        return build_message(
            rendered,
            to=recipient.email,
            from_address=self.settings.from_address,
            reply_to=self.settings.reply_to,
            message_id_domain=self.settings.domain,
            date=now,
            list_headers=self._list(recipient),
        )

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
        manage = self.links.telegram_link(recipient, now)
        if len(views) == 1 and recipient.frequency == "instant" and not forecasts:
            rendered = email_alert(
                views[0], now, tz, unsubscribe_url=unsubscribe, manage_url=manage
            )
        else:
            rendered = email_digest(
                views,
                now,
                tz,
                unsubscribe_url=unsubscribe,
                manage_url=manage,
                period=recipient.frequency,
                closing_soon=self.settings.closing_soon,
                forecasts=forecasts,
            )
        return self._list_mail(rendered, recipient, now), rendered

    def nudge(self, recipient: Recipient, checked: int, now: datetime) -> RenderedEmail:
        return nudge_email(
            checked,
            unsubscribe_url=self.links.unsubscribe_url(recipient),
            manage_url=self.links.telegram_link(recipient, now),
        )

    def list_headers(self, recipient: Recipient) -> dict[str, str]:
        """The list headers of ``recipient`` as stored with a queued message."""
        headers = self._list(recipient)
        return {"unsubscribe_url": headers.unsubscribe_url, "mailto": headers.unsubscribe_mailto}

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
        if list_headers and list_headers.get("unsubscribe_url"):
            headers = ListHeaders(
                unsubscribe_url=list_headers["unsubscribe_url"],
                unsubscribe_mailto=list_headers.get("mailto")
                or f"mailto:{self.settings.from_email}?subject=unsubscribe",
                list_id=self.settings.list_id,
            )
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
            attachments=attachments,
        )

    def new_message_id(self, tag: str = "bestbot") -> str:
        return email.utils.make_msgid(idstring=tag, domain=self.settings.domain)

    @staticmethod
    def plain(subject: str, text: str) -> RenderedEmail:
        return email_message(subject, text)
