"""bestbot's own small web server: unsubscribe and rating links, ``/healthz``; pages are
Jinja2 templates with autoescape (``bot/web/templates/``).

* :mod:`~bot.web.server` — the aiohttp application, security headers, the redacting access
  log, starting and stopping.
* :mod:`~bot.web.pages` — rendering a page from a template.
* :mod:`~bot.web.unsubscribe`, :mod:`~bot.web.rating` — the links in emails (GET shows a
  confirm button, POST acts: link scanners must never act).
* :mod:`~bot.web.health` — what ``/healthz`` checks.
"""
