"""The pages an email leads to, through aiohttp's test client on the composed App: the
settings page (every form, CSRF, expiry), the actions under a notice (GET never acts, POST
feeds the same tables as the Telegram buttons) and the double opt-in sign-up. Links are
taken from mail a real SMTP sink received."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.app import App, channels
from bot.config import Config
from bot.web.server import build_web_app, redact_path
from storage.db import Database
from storage.models import (
    DeliveryRow,
    EnquiryRow,
    FeedbackRow,
    ProfileRow,
    SubscriberRow,
)
from tests.email.kit import CLOCK, PUBLIC_URL, TITLE, email_config, subscribe
from tests.fakes.smtp import ReceivedMail, SmtpSink

EDDIE = "eddie@example.org"
LINK = re.compile(r"https://alerts\.seem\.example(/[A-Za-z0-9/_.-]+)")


@dataclass
class Site:
    client: TestClient[Any, Any]
    app: App
    smtp: SmtpSink
    clock: list[datetime] = field(default_factory=lambda: [CLOCK])

    def links(self, mail: ReceivedMail) -> dict[str, str]:
        """Label -> path of every link in the plain text ("Relevant: https://…")."""
        found: dict[str, str] = {}
        for line in (mail.text or "").splitlines():
            label, _, rest = line.partition(": ")
            match = LINK.search(rest)
            if match and label.strip():
                found.setdefault(label.strip(), match.group(1))
        return found

    async def form_of(self, path: str) -> tuple[str, str]:
        """(page HTML, the CSRF token in it)."""
        resp = await self.client.get(path)
        text = await resp.text()
        assert resp.status == 200, text
        token = re.search(r'name="csrf" value="([^"]+)"', text)
        assert token is not None, text
        return text, token.group(1)

    async def post(self, path: str, data: Any) -> tuple[int, str]:
        """Status and the page's text with entities decoded (the raw page is checked for
        escaping where that matters)."""
        resp = await self.client.post(path, data=data)
        return resp.status, html.unescape(await resp.text())

    async def rows(self, model: Any) -> list[Any]:
        async with self.app.db.session() as session:
            return list((await session.exec(select(model))).all())

    async def profile(self, sub_id: int) -> ProfileRow:
        async with self.app.db.session() as session:
            row = (
                await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub_id))
            ).one()
            return row

    async def sub(self, sub_id: int) -> SubscriberRow:
        async with self.app.db.session() as session:
            row = await session.get(SubscriberRow, sub_id)
            assert row is not None
            return row


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


@pytest.fixture
async def site(smtp: SmtpSink, database: Database) -> AsyncIterator[Site]:
    config: Config = email_config(smtp, database)
    clock = [CLOCK]
    async with (
        channels(config, receive=False) as (_b, telegram, email),
        App(config, clock=lambda: clock[0], telegram=telegram, email=email) as app,
        TestClient(TestServer(build_web_app(app.services))) as client,
    ):
        yield Site(client, app, smtp, clock)


async def _alerted(site: Site) -> tuple[int, ReceivedMail]:
    sub_id = await subscribe(site.app.db, EDDIE, ["catering services"])
    report = await site.app.cycle()
    assert report.ok
    (mail,) = site.smtp.to(EDDIE)
    return sub_id, mail


# --------------------------------------------------------------------------- settings page


async def test_the_manage_link_opens_a_labelled_form_page_with_csrf(site: Site) -> None:
    _sub, mail = await _alerted(site)
    links = site.links(mail)
    assert set(links) >= {
        "Manage your alerts",
        "Unsubscribe",
        "Relevant",
        "Not relevant",
        "Remind me",
        "Ask an adviser about this",
    }
    page, _token = await site.form_of(links["Manage your alerts"])
    assert "catering services" in page
    # every form carries the token; every input has a label
    assert page.count('name="csrf"') == page.count("<form")
    for field_id in re.findall(r'<(?:input|textarea|select)[^>]* id="([^"]+)"', page):
        assert f'for="{field_id}"' in page, field_id
    assert "<script" not in page
    assert redact_path(links["Manage your alerts"]) == "/manage/…"


@pytest.mark.parametrize(
    ("typed", "added", "said"),
    [
        ("school meals", ["school meals"], "Added 1"),
        ("school meals, catering\nlaundry", ["school meals", "catering", "laundry"], "Added 3"),
        (
            '"meals on wheels" and grounds maintenance',
            ['"meals on wheels"', "grounds maintenance"],
            "Added 2",
        ),
        (
            "• cleaning\n• window cleaning; security",
            ["cleaning", "window cleaning", "security"],
            "Added 3",
        ),
        ("Catering services", [], "Already there"),  # any case
        ("🍲🍲", [], "No letters or digits"),
        ("x" * 61, [], "Too long"),
        ("", [], "No keywords found"),
        ("<script>alert(1)</script>", ["script>alert(1)</script"], "Added 1"),
        ("Nottingham, Derby & Leicester", ["Nottingham", "Derby", "Leicester"], "Added 3"),
        (
            "can you find me youth work contracts?",
            ["can you find me youth work contracts"],
            "Added 1",
        ),
        ("grass cutting, grass cutting, GRASS CUTTING", ["grass cutting"], "Added 1"),
        ("café", ["café"], "Added 1"),
    ],
)
async def test_adding_keywords_reads_them_like_the_chat(
    site: Site, typed: str, added: list[str], said: str
) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    _page, token = await site.form_of(path)
    status, page = await site.post(path, {"form": "keywords_add", "csrf": token, "keywords": typed})
    assert status == 200
    assert said in page
    resp = await site.client.post(
        path, data={"form": "keywords_add", "csrf": token, "keywords": "<b>bold</b>"}
    )
    assert "<b>bold" not in await resp.text()  # echoed, escaped
    profile = await site.profile(sub_id)
    assert profile.keywords[: len(added) + 1] == ["catering services", *added]


async def test_forms_refuse_a_missing_or_foreign_csrf_token(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    status, page = await site.post(path, {"form": "keywords_add", "keywords": "laundry"})
    assert status == 400 and "nothing was saved" in page
    other = await subscribe(site.app.db, "other@example.org", ["laundry"])
    other_sub = await site.sub(other)
    foreign = site.app.services.signer.sign(
        "csrf", other_sub.public_id, ttl=timedelta(hours=1), now=site.clock[0]
    )
    status, _ = await site.post(path, {"form": "keywords_add", "csrf": foreign, "keywords": "x y"})
    assert status == 400
    assert (await site.profile(sub_id)).keywords == ["catering services"]


async def test_remove_keywords_but_never_the_last_one(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    _p, token = await site.form_of(path)
    await site.post(path, {"form": "keywords_add", "csrf": token, "keywords": "laundry"})
    status, page = await site.post(
        path, {"form": "keyword_remove", "csrf": token, "word": "LAUNDRY"}
    )
    assert status == 200 and "Removed “laundry”" in page
    _s, page = await site.post(
        path, {"form": "keyword_remove", "csrf": token, "word": "catering services"}
    )
    assert "at least one keyword" in page
    assert (await site.profile(sub_id)).keywords == ["catering services"]
    # exclusions
    await site.post(path, {"form": "exclude_add", "csrf": token, "exclude": "demolition, asbestos"})
    await site.post(path, {"form": "exclude_remove", "csrf": token, "word": "asbestos"})
    assert (await site.profile(sub_id)).exclude == ["demolition"]


async def test_regions_filters_and_delivery(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    _p, token = await site.form_of(path)
    await site.post(
        path, [("form", "regions"), ("csrf", token), ("region", "nt"), ("region", "db")]
    )
    assert sorted((await site.profile(sub_id)).regions) == ["UKF11", "UKF14"]
    await site.post(
        path, [("form", "regions"), ("csrf", token), ("region", "nt"), ("region", "en")]
    )
    assert (await site.profile(sub_id)).regions == ["ENG"]  # anywhere in England wins
    await site.post(path, [("form", "regions"), ("csrf", token)])
    assert (await site.profile(sub_id)).regions == []  # none ticked: anywhere
    _s, page = await site.post(
        path, {"form": "filters", "csrf": token, "value": "10k 500k", "vcse_only": "on"}
    )
    profile = await site.profile(sub_id)
    assert (profile.min_value, profile.max_value, profile.vcse_only, profile.sme_only) == (
        10_000,
        500_000,
        True,
        False,
    )
    status, page = await site.post(path, {"form": "filters", "csrf": token, "value": "lots"})
    assert status == 200 and "is not a value range" in page
    assert (await site.profile(sub_id)).min_value == 10_000  # unchanged

    delivery = {
        "form": "delivery",
        "csrf": token,
        "frequency": "weekly",
        "digest_hour": "9",
        "weekly_day": "1",
        "quiet_hours": "22-7",
        "channel_email": "on",
    }
    _s, page = await site.post(path, delivery)
    assert "One weekly digest on Tuesdays at 09:00" in page
    sub = await site.sub(sub_id)
    assert (sub.frequency, sub.digest_hour, sub.weekly_day, sub.quiet_hours) == (
        "weekly",
        9,
        1,
        "22:00-07:00",
    )
    _s, page = await site.post(path, {**delivery, "quiet_hours": "whenever"})
    assert "is not quiet hours" in page and (await site.sub(sub_id)).quiet_hours == "22:00-07:00"
    _s, page = await site.post(path, {**delivery, "channel_email": ""})
    assert "at least one way" in page and (await site.sub(sub_id)).email_active
    _s, page = await site.post(path, {**delivery, "channel_email": "", "paused": "on"})
    sub = await site.sub(sub_id)
    assert sub.paused and not sub.email_active


async def test_kinds_of_notice_and_reserved_contracts_on_the_page(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    page, token = await site.form_of(path)
    # every group ticked by default, with its UK codes and how it comes
    for key in ("tender", "engage", "dm", "early", "dmchg"):
        assert re.search(rf'id="kind-{key}" name="kind" value="{key}" checked', page), key
    assert "Pipeline and planned (UK1, UK3): tenders coming in the next months" in page
    assert '<label class="inline" for="reserved-supported_employment">' in page
    _s, page = await site.post(
        path,
        [
            ("form", "kinds"),
            ("csrf", token),
            ("kind", "tender"),
            ("kind", "dm"),
            ("kind", "nonsense"),
            ("reserved", "public_service_mutual"),
            ("reserved", "made_up"),
        ],
    )
    assert "Saved. Kinds of notice: Tenders, Dynamic markets to join." in page
    assert "Only contracts reserved for public service mutuals." in page
    profile = await site.profile(sub_id)
    assert profile.kinds_off == ["engagement", "pipeline", "planned", "dm_modified"]
    assert profile.reserved == ["public_service_mutual"]
    assert re.search(r'id="kind-early" name="kind" value="early">', page)
    # the chat and the page are one setting
    await site.post(path, [("form", "kinds"), ("csrf", token), ("kind", "early")])
    assert (await site.profile(sub_id)).reserved == []
    assert "pipeline" not in (await site.profile(sub_id)).kinds_off


async def test_an_expired_or_superseded_manage_link_shows_nothing(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    site.clock[0] = CLOCK + timedelta(days=31)
    resp = await site.client.get(path)
    assert resp.status == 400 and "expired" in await resp.text()
    site.clock[0] = CLOCK
    async with site.app.db.session() as session:
        row = await session.get(SubscriberRow, sub_id)
        assert row is not None
        row.link_version += 1  # control moved (e.g. the address changed)
        session.add(row)
    assert (await site.client.get(path)).status == 400


async def test_the_page_shows_the_same_preview_as_the_chat(site: Site) -> None:
    _sub, mail = await _alerted(site)
    path = site.links(mail)["Manage your alerts"]
    _p, token = await site.form_of(path)
    status, page = await site.post(path, {"form": "preview", "csrf": token})
    assert status == 200
    assert "seen in the last 30 days" in page  # what was searched
    assert "By keyword:" in page  # what each keyword contributed


# --------------------------------------------------------------------------- actions


async def test_actions_confirm_on_get_and_act_on_post(site: Site) -> None:
    sub_id, mail = await _alerted(site)
    links = site.links(mail)
    page, token = await site.form_of(links["Relevant"])
    assert TITLE in page and "Yes, it was relevant" in page
    assert await site.rows(FeedbackRow) == []  # a link scanner's GET did nothing
    status, page = await site.post(links["Relevant"], {"csrf": token})
    assert status == 200 and "marked relevant" in page
    _p, token = await site.form_of(links["Not relevant"])
    await site.post(links["Not relevant"], {"csrf": token})
    (feedback,) = await site.rows(FeedbackRow)
    assert (feedback.subscriber_id, feedback.relevant) == (sub_id, False)  # the latest wins

    _p, token = await site.form_of(links["Remind me"])
    status, page = await site.post(links["Remind me"], {"csrf": token})
    assert "We'll remind you" in page and "Tue 4 Mar and Thu 6 Mar" in page
    _s, again = await site.post(links["Remind me"], {"csrf": token})
    assert "Already set" in again
    reminders = [d for d in await site.rows(DeliveryRow) if d.kind == "reminder"]
    assert sorted(d.variant for d in reminders) == ["1d", "3d"]
    assert {d.channel for d in reminders} == {"email"}

    assert (await site.post(links["Relevant"], {"csrf": "forged"}))[0] == 400


async def test_ask_an_adviser_from_the_email_opens_one_enquiry(site: Site) -> None:
    _sub, mail = await _alerted(site)
    path = site.links(mail)["Ask an adviser about this"]
    page, token = await site.form_of(path)
    assert '<label for="question">' in page
    status, page = await site.post(path, {"csrf": token, "question": "help"})
    assert status == 400 and "a few words" in page
    question = "Can a small catering social enterprise bid for one lot of this?"
    status, page = await site.post(path, {"csrf": token, "question": question})
    assert status == 200 and "ENQ-000001" in page
    await site.post(path, {"csrf": token, "question": question})  # a double click
    (enquiry,) = await site.rows(EnquiryRow)
    assert enquiry.notice_id is not None
    assert enquiry.email == EDDIE and enquiry.channel == "email"


async def test_bad_action_tokens(site: Site) -> None:
    _sub, mail = await _alerted(site)
    path = site.links(mail)["Relevant"]
    for bad in (path[:-3] + "AAA", "/act/nonsense", path.replace("/act/", "/act/x")):
        assert (await site.client.get(bad)).status in (400, 404)
    site.clock[0] = CLOCK + timedelta(days=61)
    assert (await site.client.get(path)).status == 400


# --------------------------------------------------------------------------- sign-up


async def test_signup_is_double_opt_in(site: Site) -> None:
    page, token = await site.form_of("/signup")
    assert 'type="email"' in page and '<label for="email">' in page
    status, page = await site.post(
        "/signup", {"csrf": token, "email": "nope", "keywords": "catering"}
    )
    assert status == 400 and "email address like" in page
    status, page = await site.post(
        "/signup",
        [
            ("csrf", token),
            ("email", "New.Person@Example.ORG"),
            ("keywords", "youth work, sport"),
            ("region", "nt"),
            ("frequency", "daily"),
        ],
    )
    assert status == 200 and "Check your inbox" in page and "N***@example.org" in page
    assert await site.rows(SubscriberRow) == []  # nothing until the link is used
    (mail,) = site.smtp.to("New.Person@example.org")
    assert mail.subject == "Confirm your SEEM contract alerts"
    confirm = site.links(mail).get(
        "Please confirm that you want SEEM contract alerts at this address"
    ) or LINK.search(mail.text or "").group(1)  # type: ignore[union-attr]
    page, token = await site.form_of(confirm)
    assert "Yes, send me alerts" in page
    assert await site.rows(SubscriberRow) == []  # the GET (a scanner) did nothing
    status, page = await site.post(confirm, {"csrf": token})
    assert status == 200 and "You're subscribed" in page
    (sub,) = await site.rows(SubscriberRow)
    assert (sub.email, sub.email_active, sub.email_verified, sub.frequency) == (
        "New.Person@example.org",
        True,
        True,
        "daily",
    )
    profile = await site.profile(sub.id)
    assert profile.keywords == ["youth work", "sport"] and profile.regions == ["UKF14"]
    manage = re.search(r'href="([^"]+/manage/[^"]+)"', page)
    assert manage is not None and manage.group(1).startswith(PUBLIC_URL)
    assert (await site.post(confirm, {"csrf": token}))[0] == 400  # used


async def test_signing_up_an_existing_address_mails_a_settings_link_and_says_the_same(
    site: Site,
) -> None:
    await subscribe(site.app.db, EDDIE, ["catering"])
    _p, token = await site.form_of("/signup")
    status, page = await site.post("/signup", {"csrf": token, "email": EDDIE, "keywords": "x1"})
    assert status == 200 and "Check your inbox" in page
    (mail,) = site.smtp.to(EDDIE)
    assert "already subscribed" in (mail.text or "")
    assert "/manage/" in (mail.text or "")
    # at most three such mails an hour to one address
    for _ in range(4):
        await site.post("/signup", {"csrf": token, "email": EDDIE, "keywords": "x1"})
    assert len(site.smtp.to(EDDIE)) == 3
