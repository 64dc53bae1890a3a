"""``bestbot email check``: the sending domain's SPF, DKIM and DMARC, in plain words.

Exit status 0 when nothing fails (warnings allowed), 1 when a big provider is likely to
refuse or spam-folder the mail, 2 for a bad config (no ``from_address``).
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import load_config
from bot.delivery.dns_check import FAIL, MailDomains, check_domains, resolver_for
from bot.errors import UserError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("email", help="check how mail from bestbot will be received")
    sub = parser.add_subparsers(dest="email_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="look up SPF, DKIM and DMARC for the sending domain")
    check.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="ask this DNS server (default: the system's resolver); may be repeated",
    )
    check.add_argument("--timeout", type=float, default=5.0, help="seconds per DNS query")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    email = config.email
    if not email.from_email:
        raise UserError("email check: set [email] from_address first (the address mail is from)")
    from_domain = email.from_email.rpartition("@")[2].lower()
    bounce = email.bounce_address or email.from_email
    domains = MailDomains(
        from_domain=from_domain,
        envelope_domain=bounce.rpartition("@")[2].lower(),
        dkim_selector=email.dkim_selector,
        dkim_domain=email.dkim_domain,
        dkim_key=str(email.dkim_key) if email.dkim_key else None,
    )
    report = check_domains(domains, resolver_for(args.nameserver, args.timeout))
    for line in report.lines():
        print(line)
    return 1 if report.worst == FAIL else 0
