"""The demo shows the product as a person meets it: a first conversation through the real
Application and the fake Bot API, a rich single alert, a grouped message whose items keep
their "why", a digest email — East Midlands enterprises, one clock, offline and quick."""

from __future__ import annotations

import email
import email.policy
import io
import re
import time
from pathlib import Path

from bot.demo import run_demo


def _block(text: str, start: str) -> str:
    """The printed message that starts with ``start`` (up to the next blank-line gap)."""
    at = text.index(start)
    end = text.find("\n\n🤖", at)
    others = [i for i in (end, text.find("\n\n👤", at), text.find("\n\n═", at)) if i > 0]
    return text[at : min(others)] if others else text[at:]


async def test_demo_shows_the_product_as_a_person_meets_it(tmp_path: Path) -> None:
    out = io.StringIO()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    started = time.monotonic()
    report = await run_demo(outbox, out)
    took = time.monotonic() - started
    text = out.getvalue()

    assert took < 60, f"the demo took {took:.0f}s"
    assert report.ok and report.matching.matches > 0
    assert report.dispatch.failed == 0 and report.dispatch.retried == 0
    # 1. a first conversation, as a phone shows it: what Sam types, what the bot answers
    assert "👤 Sam: /start\n🤖 bestbot → Sam:" in text
    assert "👤 Sam: school meals, community catering, holiday food\n🤖 bestbot → Sam:" in text
    assert "👤 Sam taps [ " in text
    # 2. one rich single alert, with its "why", its place by name and a line of description
    single = _block(text, "🔔 Bid by 7 Mar — tender\n   Supported living services for adults")
    assert "🤖 bestbot → Homeward Care CIC (Mansfield):\n   🔔 Bid by 7 Mar — tender\n" in text
    assert "Nottinghamshire County Council is commissioning supported living" in single
    assert "📍 North Nottinghamshire" in single
    assert "Why: matched “supported living” in the title" in single
    assert "[ ⏰ Remind me ]" in single and "[ ❓ Ask an adviser ]" in single
    # one grouped message whose every item keeps its buyer, place and why
    group = _block(text, "🔔 2 new opportunities")
    items = re.split(r"\n   \d\. ", group)[1:]
    assert len(items) == 2
    for item in items:
        assert "🏛 " in item and "📍 " in item and "Why: " in item
    assert "[ 👍 1 ]  [ 👎 1 ]  [ ⏰ 1 ]  [ ❓ 1 ]" in group
    # ...and a press on it answers with the notice's name
    assert re.search(r"\(Telegram shows: “Thanks — marked (not )?relevant: “.+””\)", text)
    # 3. a digest email, each item with its why, written as .eml and shown
    files = sorted(outbox.glob("*.eml"))
    digests = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://bestbot.example.org/unsubscribe/" in message["List-Unsubscribe"]
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        if "digest" in body.get_content():
            digests.append(body.get_content())
    assert digests and digests[0].count("Why: ") >= 2
    # each item leads with what kind of chance it is: a market engagement in Wheels for
    # All's daily email, a pipeline notice in Greenfingers' weekly Telegram digest
    assert "- Have your say by 7 Feb — market engagement\n  Community transport in the" in (
        "\n".join(digests).replace("\r\n", "\n")
    )
    weekly = _block(text, "📬 Your weekly digest")
    assert "Tender expected about Sep — pipeline\n       Parks and open spaces" in weekly
    assert "📅 tender expected about Sep" in weekly
    assert "✉️  Email to bookings@wheelsforall.example.org" in text
    # one clock: no date a person reads is out of step with it ("653 days left")
    days = [int(n) for n in re.findall(r"(\d+) days? left|\((\d+) days\)", text) for n in n if n]
    assert days and max(days) < 60, days
    assert "closing soonest (as of 24 Jan 2025):" in text
    # East Midlands places by name, never a NUTS code
    assert not re.search(r"\b(?:UK|TL)[C-N]\d", text.split("══ Summary")[0])
    assert "by region:" in text and "East Midlands" in text
    assert "&amp;" not in text and "<b>" not in text
