"""Update filters shared by every handler package.

PTB's ``CommandHandler`` also fires on *edited* messages by default, so correcting a typo in
an old ``/forget`` or ``/add`` message would run it again. Commands react to new messages only.
"""

from __future__ import annotations

from telegram.ext import filters

NEW_MESSAGES = filters.UpdateType.MESSAGE
