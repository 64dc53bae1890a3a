"""Subscribers' self-service by chat: onboarding, settings, keywords, email linking, data
rights, and the buttons under alerts.

Modules: ``core`` (the :class:`~bot.chat.core.Turn`), ``onboarding`` (/start and its deep
links, /help, free text, the catch-alls), ``settings`` (/settings and the individual
settings), ``keywords`` (/add /remove /keywords /exclude /cpv), ``regions_menu``,
``email_link`` (/email /verify and the "manage by Telegram" link), ``privacy`` (/privacy
/mydata /forget), ``alert_buttons`` (👍/👎, mute, remind), ``throttle`` (flood
protection), ``text`` (parsing what people type). Which function answers which command or
button is listed in :mod:`bot.routes`.
"""
