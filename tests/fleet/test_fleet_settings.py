"""The fleet's two knobs reach what they govern: ``[database] claim_lease`` is the outbox's
and the webhook inbox's claim (how late a dead worker's work can be), ``[telegram]
send_rate`` the pace of both rate limiters (one process, or a fleet sharing PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.ext import AIORateLimiter

from bot.app import build_services
from bot.config import Config, config_from_dict
from bot.delivery.channels import email_factory
from bot.telegram.application import OVERALL_RATE, rate_limiter
from bot.telegram.budget import SharedRateLimiter
from storage.db import Database
from storage.types import utcnow

SQLITE = "sqlite:///unused.sqlite3"
POSTGRES = "postgresql://bestbot@db.example.org/bestbot"


def _config(database: dict[str, object], **tables: dict[str, object]) -> Config:
    return config_from_dict({"database": database, **tables}, env={})


def _courier_lease(config: Config, *, with_email: bool) -> timedelta:
    db = Database(SQLITE)
    services = build_services(
        config,
        "k" * 32,
        clock=utcnow,
        worker_id="w",
        telegram=None,
        email=email_factory(config) if with_email else None,
        db=db,
    )
    return services.courier.settings.lease


def test_the_default_claim_lease_is_two_minutes() -> None:
    config = _config({"url": SQLITE})
    assert config.database.claim_lease == timedelta(minutes=2)
    assert _courier_lease(config, with_email=False) == timedelta(minutes=2)


def test_a_short_claim_lease_is_the_courier_lease_unless_email_needs_longer() -> None:
    config = _config(
        {"url": SQLITE, "claim_lease": "15s"},
        email={"smtp_host": "smtp.example.org", "from_address": "a@example.org", "timeout": "20s"},
    )
    assert _courier_lease(config, with_email=False) == timedelta(seconds=15)
    # An SMTP send may take its whole timeout: the claim outlasts four of them.
    assert _courier_lease(config, with_email=True) == timedelta(seconds=80)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize("rate", [OVERALL_RATE, 5, 1000])
def test_send_rate_paces_both_limiters(rate: int) -> None:
    telegram: dict[str, object] = {"send_rate": rate} if rate != OVERALL_RATE else {}
    alone = rate_limiter(_config({"url": SQLITE}, telegram=telegram))
    assert isinstance(alone, AIORateLimiter)
    assert alone._base_limiter is not None and alone._base_limiter.max_rate == rate
    fleet = rate_limiter(_config({"url": POSTGRES}, telegram=telegram))
    assert isinstance(fleet, SharedRateLimiter)
    assert fleet.global_step == pytest.approx(1 / rate)
