"""The email channel from the config: a factory of SMTP sessions (one connection a batch)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from bot.config import Config
from bot.delivery.courier import EmailFactory, EmailPort
from bot.delivery.dkim import DkimKey, DkimKeyError
from bot.delivery.email import EmailSender, SmtpSettings
from bot.errors import UserError

__all__ = ["dkim_key", "email_factory", "smtp_settings"]


def dkim_key(config: Config) -> DkimKey | None:
    """The DKIM signing key, when ``[email] dkim_selector``, a domain and a key are set."""
    email = config.email
    if not (email.dkim_enabled and email.dkim_selector and email.dkim_domain and email.dkim_key):
        return None
    try:
        return DkimKey(email.dkim_selector, email.dkim_domain, str(email.dkim_key).encode())
    except DkimKeyError as exc:
        raise UserError(f"email.dkim_key: {exc} (an RSA private key in PEM form)") from None


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
        dkim=dkim_key(config),
    )


def email_factory(config: Config) -> EmailFactory | None:
    """A factory of SMTP sessions, or None when SMTP is not configured."""
    settings = smtp_settings(config)
    if settings is None:
        return None

    def session() -> AbstractAsyncContextManager[EmailPort]:
        return EmailSender(settings)

    return session
