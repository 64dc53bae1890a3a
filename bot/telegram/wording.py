"""The few replies every handler family shares, in one place so they read the same."""

from __future__ import annotations

NOT_YOURS = "That button isn't yours."
GARBLED = "Sorry, I didn't understand that button. It may be from an older message."
FAILED = "Sorry, something went wrong. Please try again in a minute."
NOT_SUBSCRIBED = (
    "You're not subscribed yet, so there is nothing to change here.\n"
    "Send /start to set up contract alerts for your enterprise — it takes under a minute."
)
NOT_ADMIN = "Only this group's admins can change my settings here."
NON_TEXT = "I can only read text. Send /help to see what I can do."
UNKNOWN_COMMAND = "Sorry, I don't know {command}. Send /help to see what I can do."
