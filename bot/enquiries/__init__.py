"""Enquiries: questions from enterprises, routed to SEEM advisers, relayed, escalated.

:func:`install` registers this package's Telegram handlers; it is called by
:func:`bot.handlers.install_handlers` before the catch-all handlers. The workflow itself is
:class:`bot.enquiries.service.EnquiryService`; see ``docs/enquiries.md``.
"""

from __future__ import annotations

from typing import Any


def install(app: Any, state: Any) -> None:
    """Register the enquiry handlers on ``app`` (``state`` is the handlers' shared state)."""
    from bot.enquiries.telegram import install as install_telegram
    from storage.chat import EXTRA_EXPORTS
    from storage.enquiries import export_for_subscriber

    EXTRA_EXPORTS.setdefault("enquiries", export_for_subscriber)  # part of /mydata
    install_telegram(app, state)
