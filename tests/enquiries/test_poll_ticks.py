"""A cron-driven deployment (``bestbot poll``, no ``run``) still escalates overdue enquiries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.config import config_from_dict
from bot.delivery.channels import email_factory
from bot.enquiries.model import IncomingMessage
from storage import enquiries as store
from storage.db import Database
from tests.fakes.smtp import SmtpSink

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_poll_cycle_fires_due_enquiry_timers(
    database: Database, smtp_server: SmtpSink
) -> None:
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "poll-ticks-secret-key"},
            "feeds": [],
            "routing": {"ack_within": "1h", "working_hours": "24/7"},
            "email": {
                "from_address": "SEEM enquiries <enquiries@seem.example.org>",
                "smtp_host": smtp_server.hostname,
                "smtp_port": smtp_server.port,
                "starttls": False,
            },
        },
        env={},
    )
    async with database.session() as session:
        await store.upsert_advisers(
            session,
            [
                store.AdviserInput("t1", "Tendering adviser", ["tendering"], 5, email="t1@x.org"),
                store.AdviserInput("t2", "Bids adviser", ["tendering"], 5, email="t2@x.org"),
                store.AdviserInput("d", "Duty adviser", ["general"], 5, email="duty@x.org"),
            ],
        )
    now = {"t": START}
    service = App(config, email=email_factory(config), clock=lambda: now["t"])
    async with service:
        received = await service.services.enquiries.receive(
            IncomingMessage(
                channel="email",
                text="How do we respond to a tender's social value questions and bid well?",
                subject="Bidding for a council tender",
                sender_email="ann@kitchen.example.org",
                message_id="<q1@kitchen.example.org>",
            )
        )
        first = (await service.cycle()).enquiry_timers
        now["t"] = START + timedelta(hours=1, minutes=1)
        second = (await service.cycle()).enquiry_timers
        async with database.session() as session:
            events = [e.kind for e in await store.events(session, received.enquiry_id)]
    assert first == 0 and second == 1
    assert "escalated" in events
