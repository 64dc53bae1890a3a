"""Real-looking raw emails for the email-intake tests (CRLF line ends, as IMAP returns)."""

from __future__ import annotations


def crlf(text: str) -> bytes:
    """``text`` with CRLF line ends, encoded as the mail's own bytes (ASCII/8-bit)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("latin-1")


OWN = "alerts@seem.example"

ALTERNATIVE = crlf(
    """Return-Path: <jo@greenbikes.example>
Received: from mail.greenbikes.example by mx.seem.example; Tue, 25 Nov 2025 09:12:03 +0000
From: "Jo Bloggs" <jo@GreenBikes.example>
To: enquiries@seem.example
Subject: Help with a council bike repair tender
Date: Tue, 25 Nov 2025 09:12:01 +0000
Message-ID: <CAF1234abc@mail.greenbikes.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

Hello SEEM,

We want to bid for the Leicester cycle repair contract. Do we need
ISO 9001 to apply?

Thanks,
Jo
--
Green Bikes CIC | 0116 000 0000
--b1
Content-Type: text/html; charset="utf-8"

<html><body><p>Hello SEEM,</p><p>HTML VERSION</p></body></html>
--b1--
"""
)

HTML_ONLY = crlf(
    """From: Priya <priya@carecoop.example>
To: enquiries@seem.example
Subject: Social value question
Message-ID: <html-1@carecoop.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<!DOCTYPE html><html><head><title>Ignore me</title>
<style>p { color: red }</style><script>alert("x")</script></head>
<body><div>How do we evidence <b>social value</b> &amp; local jobs?</div>
<ul><li>Care at home</li><li>Day services</li></ul>
<p>Thanks<br>Priya &lt;Manager&gt;</p><img src="https://track.example/p.gif"></body></html>
"""
)

QUOTED_PRINTABLE = crlf(
    """From: sam@foodbank.example
To: enquiries@seem.example
Subject: =?utf-8?q?Contract_value_=C2=A3250k?=
Message-ID: <qp-1@foodbank.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

The contract is worth =C2=A3250,000 over three years and this line is long e=
nough to need a soft break.
Caf=C3=A9 staff included.
"""
)

BASE64 = crlf(
    """From: Ana <ana@recycle.example>
To: enquiries@seem.example
Subject: Base64 body
Message-ID: <b64-1@recycle.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SG93IGRvIHdlIHJlZ2lzdGVyIG9uIEZpbmQgYSBUZW5kZXI/IOKAlCBBbmE=
"""
)

LATIN1 = crlf(
    """From: =?iso-8859-1?q?Ren=E9e_Dupr=E9?= <renee@atelier.example>
To: enquiries@seem.example
Subject: =?windows-1252?q?Caf=E9_tender_=96_question?=
Message-ID: <latin-1@atelier.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

"""
) + "Notre café social veut répondre. Coût: 5 000 £?\r\n".encode("iso-8859-1")

REPLY = crlf(
    """From: Jo Bloggs <jo@greenbikes.example>
To: SEEM enquiries <enquiries@seem.example>
Subject: Re: [ENQ-000123] Help with a council bike repair tender
Message-ID: <reply-2@mail.greenbikes.example>
In-Reply-To: <bestbot.111@seem.example>
References: <CAF1234abc@mail.greenbikes.example>
 <bestbot.111@seem.example>
Content-Type: text/plain; charset=utf-8

Thanks, that helps. One more thing: is the deadline noon?

On Tue, 25 Nov 2025, SEEM wrote:
> You don't need ISO 9001.
"""
)

OUTLOOK_OOF = crlf(
    """From: Jo Bloggs <jo@greenbikes.example>
To: enquiries@seem.example
Subject: Automatic reply: [ENQ-000123] Your question has been received
Message-ID: <oof-1@greenbikes.example>
In-Reply-To: <bestbot.111@seem.example>
Auto-Submitted: auto-replied
X-MS-Exchange-Inbox-Rules-Loop: jo@greenbikes.example
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday with limited access to email.
"""
)

OOF_SUBJECT_ONLY = crlf(
    """From: bob@builders.example
To: enquiries@seem.example
Subject: Out of Office: Re: your enquiry
Message-ID: <oof-2@builders.example>

Back on the 3rd.
"""
)

DSN = crlf(
    """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.seem.example>
To: enquiries@seem.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.seem.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r1"

--r1
Content-Type: text/plain

This is the mail system. Your message could not be delivered.
--r1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.seem.example
Final-Recipient: rfc822; nobody@nowhere.example
Action: failed
Status: 5.1.1
--r1--
"""
)

# A bounce with none of the polite headers: only the report type gives it away.
BARE_DSN = crlf(
    """From: postmaster@other.example
To: enquiries@seem.example
Subject: Delivery report
Message-ID: <dsn-2@other.example>
Content-Type: multipart/report; report-type=delivery-status; boundary="r2"

--r2
Content-Type: text/plain

failed
--r2--
"""
)

LIST_MAIL = crlf(
    """From: Procurement News <news@lists.example>
To: enquiries@seem.example
Subject: This week's tenders
Message-ID: <list-1@lists.example>
List-Id: Procurement News <news.lists.example>
List-Unsubscribe: <mailto:leave@lists.example>
Precedence: list
Content-Type: text/plain

Ten new tenders this week.
"""
)

OWN_MAIL = crlf(
    f"""From: BEST Procurement <{OWN.upper()}>
To: enquiries@seem.example
Subject: [ENQ-000123] We have your question
Message-ID: <bestbot.222@seem.example>
Content-Type: text/plain

Thanks for your question.
"""
)

NO_FROM = crlf(
    """To: enquiries@seem.example
Subject: Who am I
Message-ID: <nofrom@x.example>

Anonymous.
"""
)

NO_MESSAGE_ID = crlf(
    """From: kim@bakery.example
To: enquiries@seem.example
Subject: No id here

Can we bid jointly with another CIC?
"""
)


def simple(
    n: int, *, sender: str = "ask@enterprise.example", headers: str = "", subject: str = ""
) -> bytes:
    """A plain enquiry numbered ``n`` (Message-ID ``<msg-n@enterprise.example>``)."""
    return crlf(
        f"""From: Asker {n} <{sender}>
To: enquiries@seem.example
Subject: {subject or f"Question {n}"}
Message-ID: <msg-{n}@enterprise.example>
{headers}Content-Type: text/plain; charset=utf-8

Question number {n}: how do we find tenders?
"""
    )
