"""Enquiries: questions from enterprises, routed to SEEM advisers, relayed, escalated.

The workflow is split by reason to change: :mod:`~bot.enquiries.model` (the values and the
desk every step works at), :mod:`~bot.enquiries.texts` (wording),
:mod:`~bot.enquiries.routing` (the roster, assigning, briefing),
:mod:`~bot.enquiries.actions` (accept, pass on, resolve, rate, answer, follow up),
:mod:`~bot.enquiries.intake` (new enquiries and replies, who a mail is really from),
:mod:`~bot.enquiries.timers` (SLA timers), :mod:`~bot.enquiries.outbox` (queueing the
messages). :class:`~bot.enquiries.service.EnquiryService` is the front door; the Telegram
handlers are :mod:`~bot.enquiries.telegram`, the mailbox reader :mod:`~bot.enquiries.mailbox`.
See ``docs/enquiries.md``.
"""
