"""Pages from Jinja2 templates with autoescape: every string is escaped by the engine."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = ["message_page", "page"]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
    )


def page(template: str, status: int = 200, **context: Any) -> web.Response:
    text = _environment().get_template(template).render(**context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def message_page(title: str, *paragraphs: str | dict[str, Any], status: int = 200) -> web.Response:
    """A page of plain paragraphs (a string, or ``{"text", "muted"}``)."""
    items: list[dict[str, Any]] = [
        {"muted": False, "strong": "", "after": "", **(p if isinstance(p, dict) else {"text": p})}
        for p in paragraphs
    ]
    return page("base.html", status=status, title=title, paragraphs=items)
