"""Filling in the sample reports (``tests/email/samples/*.eml``) for a real sent mail."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"


def report(
    name: str, *, tag: str, rcpt: str, bounce_to: str | None = None, msgid: str = "1"
) -> bytes:
    """A sample with CRLF line ends, as a mail server stores it."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    text = (
        text.replace("{TAG}", tag)
        .replace("{RCPT}", rcpt)
        .replace("{BOUNCE_TO}", bounce_to or f"bounces+{tag}@seem.example")
        .replace("{MSGID}", msgid)
    )
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
