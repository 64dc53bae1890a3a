"""What people read: alerts, updates, reminders, digests and nudges, for Telegram and email.

Pure functions from plain values to text, so the delivery loop, the demo and the tests see
exactly the same messages.

* :mod:`bot.render.model` — the values: :class:`AlertView` in, :class:`TelegramMessage` and
  :class:`RenderedEmail` out.
* :mod:`bot.render.text` — the one escape-and-fit helper every Telegram or HTML string goes
  through (cleaning, truncating as raw text, escaping, Telegram's 4096-character limit).
* :mod:`bot.render.phrases` — values, dates, places and changes in plain UK English.
* :mod:`bot.render.telegram` — Telegram messages (fitting 4096 characters is an algorithm,
  so it stays in code).
* :mod:`bot.render.email` — email, from Jinja2 templates with autoescape
  (``bot/render/templates/``).
"""
