"""poll_mailbox against a real Dovecot on loopback: order, flags, retries, robots, failures."""

from __future__ import annotations

import asyncio
import dataclasses
import imaplib
import logging
import time
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.enquiries.mailbox import (
    DONE_KEYWORD,
    FAILED_KEYWORD,
    IGNORED_KEYWORD,
    IncomingMessage,
    Mailbox,
    Received,
    mailbox_job,
    poll_mailbox,
    schedule_mailbox,
)
from tests.enquiries import mailbox_samples as s
from tests.fakes import dovecot as dovecot_fakes
from tests.fakes.dovecot import Dovecot

# The fixtures, bound here so this module works whatever the conftests import.
dovecot_server = dovecot_fakes.dovecot_server
dovecot = dovecot_fakes.dovecot

DONE = {"\\Seen", DONE_KEYWORD}


class RecordingReceiver:
    """Stores messages like EnquiryService: idempotent by message_id, replies join."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.messages: list[IncomingMessage] = []
        self.calls = 0
        self.fail_on = fail_on or set()
        self._by_id: dict[str, Received] = {}

    async def receive(self, msg: IncomingMessage) -> Received:
        self.calls += 1
        await asyncio.sleep(0)
        if msg.subject in self.fail_on:
            raise RuntimeError("database is down")
        if msg.message_id in self._by_id:
            return dataclasses.replace(self._by_id[msg.message_id or ""], created=False)
        self.messages.append(msg)
        is_reply = msg.in_reply_to is not None
        received = Received(
            enquiry_id=1 if is_reply else len(self.messages),
            reference=f"ENQ-{len(self.messages):06d}",
            created=not is_reply,
            adviser_id=None,
        )
        self._by_id[msg.message_id or ""] = received
        return received

    @property
    def subjects(self) -> list[str | None]:
        return [m.subject for m in self.messages]


async def poll(server: Dovecot, receiver: RecordingReceiver, **kwargs: object):  # type: ignore[no-untyped-def]
    return await poll_mailbox(
        server.inbound_config(),
        receiver,
        own_addresses=(s.OWN,),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_new_mail_is_received_in_order_and_flagged(dovecot: Dovecot) -> None:
    uids = [dovecot.append(s.simple(n)) for n in (1, 2, 3)]
    receiver = RecordingReceiver()

    report = await poll(dovecot, receiver)

    assert receiver.subjects == ["Question 1", "Question 2", "Question 3"]
    first = receiver.messages[0]
    assert first.channel == "email" and first.sender_email == "ask@enterprise.example"
    assert first.sender_name == "Asker 1" and first.message_id == "<msg-1@enterprise.example>"
    assert "Question number 1" in first.text
    assert (report.fetched, report.new, report.joined, report.ignored, report.errors) == (
        3, 3, 0, 0, 0,
    )  # fmt: skip
    flags = dovecot.flags()
    assert all(flags[uid] >= DONE and IGNORED_KEYWORD not in flags[uid] for uid in uids)

    again = await poll(dovecot, receiver)
    assert again.fetched == 0 and receiver.calls == 3
    assert again.line() == (
        f"mailbox {dovecot.host}: 0 fetched, 0 new, 0 joined, 0 ignored, 0 reports, 0 errors"
    )


async def test_a_reply_joins_its_enquiry(dovecot: Dovecot) -> None:
    dovecot.append(s.ALTERNATIVE)
    dovecot.append(s.REPLY)
    receiver = RecordingReceiver()

    report = await poll(dovecot, receiver)

    assert (report.new, report.joined) == (1, 1)
    reply = receiver.messages[1]
    assert reply.in_reply_to == "<bestbot.111@seem.example>"
    assert reply.references == (
        "<CAF1234abc@mail.greenbikes.example>",
        "<bestbot.111@seem.example>",
    )
    assert reply.subject == "Re: [ENQ-000123] Help with a council bike repair tender"


async def test_failure_mid_batch_leaves_that_mail_and_later_ones(dovecot: Dovecot) -> None:
    uids = [dovecot.append(s.simple(n)) for n in (1, 2, 3)]
    failing = RecordingReceiver(fail_on={"Question 2"})

    report = await poll(dovecot, failing)

    assert failing.subjects == ["Question 1"] and failing.calls == 2  # 3 never tried
    assert report.new == 1 and report.errors == 1 and report.left == 2
    assert report.problem is not None and "RuntimeError: database is down" in report.problem
    flags = dovecot.flags()
    assert flags[uids[0]] >= DONE
    assert DONE_KEYWORD not in flags[uids[1]] | flags[uids[2]]
    assert "\\Seen" not in flags[uids[1]] | flags[uids[2]]  # BODY.PEEK: not marked read
    assert FAILED_KEYWORD in flags[uids[1]] and FAILED_KEYWORD not in flags[uids[2]]

    healed = RecordingReceiver()
    report = await poll(dovecot, healed)
    assert healed.subjects == ["Question 2", "Question 3"] and report.errors == 0
    assert all(f >= DONE for f in dovecot.flags().values())


async def test_a_mail_that_keeps_failing_does_not_block_later_mail(dovecot: Dovecot) -> None:
    uids = [dovecot.append(s.simple(n)) for n in (1, 2, 3, 4)]
    poison = RecordingReceiver(fail_on={"Question 2"})

    first = await poll(dovecot, poison)  # fails once: stop, keep the order
    assert poison.subjects == ["Question 1"] and first.left == 3
    second = await poll(dovecot, poison)  # fails again: step past it
    assert poison.subjects == ["Question 1", "Question 3", "Question 4"]
    assert (second.new, second.errors, second.left) == (2, 1, 1)
    flags = dovecot.flags()
    assert DONE_KEYWORD not in flags[uids[1]] and FAILED_KEYWORD in flags[uids[1]]

    healed = RecordingReceiver()
    await poll(dovecot, healed)  # it is never given up on
    assert healed.subjects == ["Question 2"]


async def test_an_outage_stops_every_poll_without_reordering(dovecot: Dovecot) -> None:
    for n in (1, 2, 3):
        dovecot.append(s.simple(n))
    down = RecordingReceiver(fail_on={"Question 1", "Question 2", "Question 3"})
    for _ in range(4):
        report = await poll(dovecot, down)
        assert report.new == 0 and report.errors >= 1
    healed = RecordingReceiver()
    await poll(dovecot, healed)
    assert healed.subjects == ["Question 1", "Question 2", "Question 3"]


async def test_crash_after_receive_rereads_with_the_same_message_id(dovecot: Dovecot) -> None:
    """Flag lost after receive (crash): the re-read is the same message, so receive dedups."""
    dovecot.append(s.simple(1))
    dovecot.append(s.NO_MESSAGE_ID)
    receiver = RecordingReceiver()
    await poll(dovecot, receiver)
    first_ids = [m.message_id for m in receiver.messages]

    imap = dovecot.client()  # undo the flags, as if we crashed before setting them
    imap.uid("STORE", "1:*", "-FLAGS.SILENT", f"(\\Seen {DONE_KEYWORD})")
    imap.logout()
    report = await poll(dovecot, receiver)

    assert receiver.calls == 4 and [m.message_id for m in receiver.messages] == first_ids
    assert (report.new, report.joined) == (0, 2)  # both recognised as already stored


async def test_robots_are_flagged_and_never_received(dovecot: Dovecot) -> None:
    robots = [s.OUTLOOK_OOF, s.DSN, s.LIST_MAIL, s.OWN_MAIL, s.NO_FROM]
    robot_uids = [dovecot.append(raw) for raw in robots]
    person = dovecot.append(s.simple(7))
    own_inbound = dovecot.append(s.simple(8, sender="enquiries@seem.example"))
    receiver = RecordingReceiver()

    report = await poll(dovecot, receiver)

    assert receiver.subjects == ["Question 7"]
    assert report.ignored == 6 and report.new == 1
    assert "our own message" in report.ignored_reasons
    flags = dovecot.flags()
    for uid in [*robot_uids, own_inbound]:
        assert DONE | {IGNORED_KEYWORD} <= flags[uid]
    assert IGNORED_KEYWORD not in flags[person]
    assert (await poll(dovecot, receiver)).fetched == 0


async def test_mail_already_read_by_a_person_is_still_handled(dovecot: Dovecot) -> None:
    dovecot.append(s.simple(1), flags="(\\Seen)")
    receiver = RecordingReceiver()
    await poll(dovecot, receiver)
    assert receiver.subjects == ["Question 1"]


async def test_batch_limit_leaves_the_rest_for_next_poll(dovecot: Dovecot) -> None:
    for n in (1, 2, 3):
        dovecot.append(s.simple(n))
    receiver = RecordingReceiver()

    report = await poll(dovecot, receiver, batch=2)
    assert receiver.subjects == ["Question 1", "Question 2"] and report.left == 1
    assert "1 left for next poll" in report.line()

    await poll(dovecot, receiver, batch=2)
    assert receiver.subjects == ["Question 1", "Question 2", "Question 3"]


async def test_old_and_deleted_mail_is_not_picked_up(dovecot: Dovecot) -> None:
    imap = dovecot.client()
    year_ago = time.time() - 365 * 86400
    imap.append("INBOX", None, imaplib.Time2Internaldate(year_ago), s.simple(1))
    imap.append("INBOX", "(\\Deleted)", None, s.simple(2))
    imap.logout()
    dovecot.append(s.simple(3))
    receiver = RecordingReceiver()

    await poll(dovecot, receiver)
    assert receiver.subjects == ["Question 3"]

    await poll(dovecot, receiver, lookback=None)  # no window: the old one is read too
    assert receiver.subjects == ["Question 3", "Question 1"]


async def test_a_folder_with_spaces_and_quotes(dovecot: Dovecot) -> None:
    folder = 'SEEM "Enquiries" 2025'
    imap = dovecot.client()
    quoted = '"SEEM \\"Enquiries\\" 2025"'
    assert imap.create(quoted)[0] == "OK"
    assert imap.append(quoted, None, None, s.simple(5))[0] == "OK"
    imap.logout()
    receiver = RecordingReceiver()

    report = await poll_mailbox(dovecot.inbound_config(folder=folder), receiver)

    assert receiver.subjects == ["Question 5"] and report.errors == 0
    imap = dovecot.client()
    imap.delete(quoted)
    imap.logout()


async def test_seen_flag_fallback_without_custom_keywords(dovecot: Dovecot) -> None:
    """Servers that refuse keywords: UNSEEN selects, \\Seen marks done."""
    dovecot.append(s.simple(1))
    dovecot.append(s.simple(2), flags="(\\Seen)")
    box = Mailbox(dovecot.inbound_config())
    await asyncio.to_thread(box.connect)
    try:
        assert box.keywords  # Dovecot allows them...
        box.keywords = False  # ...so pretend it doesn't
        [uid] = await asyncio.to_thread(box.pending)
        fetched = await asyncio.to_thread(box.fetch, uid)
        assert fetched is not None and b"Question 1" in fetched[0]
        assert fetched[1] == frozenset()
        await asyncio.to_thread(box.mark_done, uid)
        assert await asyncio.to_thread(box.pending) == []
    finally:
        await asyncio.to_thread(box.close)
    assert all(flags == {"\\Seen"} for flags in dovecot.flags().values())


async def test_implicit_tls_verifies_the_certificate(dovecot: Dovecot) -> None:
    if not dovecot.tls_port:
        pytest.skip("no openssl to make a certificate")
    dovecot.append(s.simple(1))
    config = dovecot.inbound_config(ssl=True, port=dovecot.tls_port)

    untrusted = await poll_mailbox(config, RecordingReceiver(), io_timeout=5)
    assert untrusted.errors == 1 and "CERTIFICATE_VERIFY_FAILED" in (untrusted.problem or "")

    receiver = RecordingReceiver()
    report = await poll_mailbox(config, receiver, ssl_context=dovecot.client_tls_context)
    assert receiver.subjects == ["Question 1"] and report.errors == 0


async def test_wrong_password_is_reported_not_raised(
    dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append(s.simple(1))
    receiver = RecordingReceiver()
    secret = "not-the-password-1234"

    with caplog.at_level(logging.INFO):
        report = await poll_mailbox(dovecot.inbound_config(password=secret), receiver)

    assert report.errors == 1 and receiver.calls == 0
    assert report.problem is not None and "login refused for bestbot" in report.problem
    assert secret not in caplog.text and secret not in report.line()
    assert "login refused" in caplog.text


async def test_missing_folder_and_missing_credentials(dovecot: Dovecot) -> None:
    receiver = RecordingReceiver()
    report = await poll_mailbox(dovecot.inbound_config(folder="Nope"), receiver)
    assert report.errors == 1 and "cannot open folder 'Nope'" in (report.problem or "")

    report = await poll_mailbox(dovecot.inbound_config(username=None), receiver)
    assert report.errors == 1 and "no username/password" in (report.problem or "")


async def test_unreachable_server_is_reported_not_raised(dovecot: Dovecot) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = await poll_mailbox(
        dovecot.inbound_config(port=port), RecordingReceiver(), io_timeout=2
    )
    assert report.errors == 1 and "ConnectionRefusedError" in (report.problem or "")

    # TLS requested against a plain-text server: a handshake error, also just reported.
    report = await poll_mailbox(dovecot.inbound_config(ssl=True), RecordingReceiver(), io_timeout=2)
    assert report.errors == 1 and report.problem


async def test_scheduler_job_runs_and_never_raises(dovecot: Dovecot) -> None:
    dovecot.append(s.simple(1))
    receiver = RecordingReceiver()
    scheduler = AsyncIOScheduler(timezone="UTC")
    job = schedule_mailbox(
        scheduler, receiver, dovecot.inbound_config(every=timedelta(minutes=5)), (s.OWN,)
    )
    assert job.id == "poll mailbox" and job.max_instances == 1 and job.coalesce
    assert job.trigger.interval == timedelta(minutes=5)
    scheduler.start()
    try:
        for _ in range(200):
            if receiver.calls:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert receiver.subjects == ["Question 1"]

    broken = await mailbox_job(dovecot.inbound_config(password="x"), receiver)
    assert broken.errors == 1
