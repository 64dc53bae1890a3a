"""The email channel from the config: a factory of SMTP sessions (one connection a batch)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from bot.config import Config
from bot.delivery.courier import EmailFactory, EmailPort
from bot.delivery.email import EmailSender, SmtpSettings

__all__ = ["email_factory", "smtp_settings"]


def smtp_settings(config: Config) -> SmtpSettings | None:
    email = config.email
    if not email.smtp_host or not email.from_address:
        return None
    return SmtpSettings(
        host=email.smtp_host,
        port=email.smtp_port,
        username=email.smtp_username,
        password=email.smtp_password,
        starttls=email.starttls,
        tls=email.tls,
        timeout=email.timeout.total_seconds(),
        from_address=email.from_address,
    )


def email_factory(config: Config) -> EmailFactory | None:
    """A factory of SMTP sessions, or None when SMTP is not configured."""
    settings = smtp_settings(config)
    if settings is None:
        return None

    def session() -> AbstractAsyncContextManager[EmailPort]:
        return EmailSender(settings)

    return session
