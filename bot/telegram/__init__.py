"""Telegram plumbing in one place: the PTB application (:mod:`~bot.telegram.application`),
the typed context handlers receive (:mod:`~bot.telegram.context`), the one callback-data
codec (:mod:`~bot.callbacks`), the one edit-in-place helper
(:mod:`~bot.telegram.replies`), updates handled concurrently across chats and in order within
one (:mod:`~bot.telegram.updates`), and every handler installed in order, explicitly
(:mod:`~bot.routes`)."""
