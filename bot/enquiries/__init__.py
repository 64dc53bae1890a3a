"""Enquiries: questions from enterprises, routed to SEEM advisers, relayed, escalated.

:func:`install` registers this package's Telegram handlers; it is called by
:func:`bot.handlers.install_handlers` before the catch-all handlers.
"""

from __future__ import annotations

from typing import Any


def install(app: Any, state: Any) -> None:
    """Register the enquiry handlers on ``app`` (nothing yet)."""
