"""The demo runs the real main job on the bundled samples, with no credentials."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

from bot.demo import run_demo


async def test_demo_alerts_by_both_channels_and_summarises(tmp_path: Path) -> None:
    out = io.StringIO()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    report = await run_demo(outbox, out)
    text = out.getvalue()

    assert report.ok
    assert report.matching.matches > 0
    assert report.dispatch.failed == 0 and report.dispatch.retried == 0
    # Telegram messages are printed as a person sees them, links after their text.
    assert "── Telegram to Green Plate Catering Co-op" in text
    assert "<https://www.contractsfinder.service.gov.uk/Notice/" in text
    assert "&amp;" not in text and "<b>" not in text
    # The weekly subscriber got a digest after the clock moved on.
    assert "weekly digest" in text
    files = sorted(outbox.glob("*.eml"))
    assert files
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://bestbot.example.org/unsubscribe/" in message["List-Unsubscribe"]
    # The issue-2 summary: counts by stage and region, suitability, closing soonest.
    assert "by stage:" in text and "tender" in text
    assert "by region:" in text and "East Midlands" in text
    assert "closing soonest (as of 21 Jan 2025):" in text
