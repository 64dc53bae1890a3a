"""``bestbot email check``: what the sending domain's DNS tells a big mailbox provider.

Since 2024 Gmail, Yahoo and Microsoft want every bulk sender to authenticate: SPF for the
envelope domain, a DKIM signature, and a DMARC record for the From domain with SPF or
DKIM *aligned* to it (the same domain, or a subdomain of the same organisation). This
module looks the three records up (dnspython) and turns them into findings in plain
words, each ``ok``, ``warn`` or ``fail``, and one verdict. It is read-only and needs no
credentials; the resolver is injectable so tests use a local DNS server.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import dkim.crypto
import dns.exception
import dns.resolver

__all__ = ["Finding", "MailDomains", "Report", "check_domains", "resolver_for"]

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class MailDomains:
    """What the config says about sending: From, envelope (bounces) and DKIM."""

    from_domain: str
    envelope_domain: str
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key: str | None = field(default=None, repr=False)  # the PEM private key, if set


@dataclass(frozen=True)
class Finding:
    check: str  # "SPF", "DKIM", "DMARC"
    level: str  # ok | warn | fail
    text: str


@dataclass
class Report:
    domains: MailDomains
    findings: list[Finding] = field(default_factory=list)

    @property
    def worst(self) -> str:
        levels = {f.level for f in self.findings}
        return FAIL if FAIL in levels else WARN if WARN in levels else OK

    def verdict(self) -> str:
        d = self.domains.from_domain
        if self.worst == OK:
            return (
                f"Gmail, Yahoo and Microsoft should accept mail from {d} as authenticated: "
                "SPF, DKIM and DMARC are in place and aligned."
            )
        problems = "; ".join(f.text for f in self.findings if f.level == self.worst)
        if self.worst == WARN:
            return (
                f"Mail from {d} should be delivered, but fix this to stay out of spam: {problems}"
            )
        return f"Big providers are likely to send mail from {d} to spam or refuse it: {problems}"

    def lines(self) -> list[str]:
        out = [
            f"Checking mail from {self.domains.from_domain} "
            f"(bounces use {self.domains.envelope_domain})"
        ]
        out += [f"{f.check:<6} {f.level:<5} {f.text}" for f in self.findings]
        out.append(f"Verdict: {self.verdict()}")
        return out


def resolver_for(nameservers: Sequence[str] = (), timeout: float = 5.0) -> dns.resolver.Resolver:
    """A resolver: the system's, or the given ``HOST`` / ``HOST:PORT`` servers."""
    if not nameservers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        hosts: list[str] = []
        port = 53
        for server in nameservers:
            host, sep, number = server.rpartition(":")
            if sep and number.isdigit() and host and not host.endswith(":"):
                hosts.append(host.strip("[]"))
                port = int(number)
            else:
                hosts.append(server.strip("[]"))
        resolver.nameservers = hosts
        resolver.port = port
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


class _Lookup:
    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver

    def txt(self, name: str) -> list[str] | None:
        """The TXT strings at ``name``; [] when there are none, None when DNS failed."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.DNSException, OSError):
            return None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def _org(domain: str) -> str:
    """A rough organisational domain (the last two labels, three under a two-letter
    second level such as ``.org.uk``): enough to judge relaxed alignment."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in {"co", "org", "ac", "gov"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _aligned(a: str, b: str) -> bool:
    return _org(a) == _org(b)


def check_domains(domains: MailDomains, resolver: dns.resolver.Resolver) -> Report:
    lookup = _Lookup(resolver)
    report = Report(domains)
    spf_ok = _spf(lookup, domains, report)
    dkim_ok = _dkim(lookup, domains, report)
    _dmarc(lookup, domains, report, spf_ok, dkim_ok)
    return report


def _spf(lookup: _Lookup, d: MailDomains, report: Report) -> bool:
    records = lookup.txt(d.envelope_domain)
    add = report.findings.append
    if records is None:
        add(Finding("SPF", WARN, f"could not look up SPF for {d.envelope_domain} (DNS failed)"))
        return False
    spf = [r for r in records if r.lower().startswith("v=spf1")]
    if not spf:
        add(
            Finding(
                "SPF",
                FAIL,
                f"{d.envelope_domain} has no SPF record: publish a TXT record "
                '"v=spf1 include:<your mail provider> -all" naming the servers that send for it',
            )
        )
        return False
    if len(spf) > 1:
        add(
            Finding(
                "SPF",
                FAIL,
                f"{d.envelope_domain} has {len(spf)} SPF records; receivers treat that as an "
                "error (no SPF at all): merge them into one",
            )
        )
        return False
    record = spf[0]
    ending = re.search(r"([-~?+])all\b", record)
    if ending is None or ending.group(1) in "+?":
        add(
            Finding(
                "SPF",
                WARN,
                f'"{record}" lets any server send as {d.envelope_domain}: end it with "-all" '
                'or "~all"',
            )
        )
        return True
    aligned = _aligned(d.envelope_domain, d.from_domain)
    note = "" if aligned else f" (but {d.envelope_domain} is not aligned with {d.from_domain})"
    add(Finding("SPF", OK if aligned else WARN, f'"{record}"{note}'))
    return aligned


def _public_modulus(p_value: str) -> int | None:
    try:
        key = dkim.crypto.parse_public_key(base64.b64decode(p_value))
        return int(key["modulus"])
    except Exception:
        return None


def _private_modulus(pem: str) -> int | None:
    try:
        return int(dkim.crypto.parse_pem_private_key(pem.encode())["modulus"])
    except Exception:
        return None


def _dkim(lookup: _Lookup, d: MailDomains, report: Report) -> bool:
    add = report.findings.append
    if not d.dkim_selector or not d.dkim_domain:
        add(
            Finding(
                "DKIM",
                FAIL,
                "mail is not DKIM-signed: set [email] dkim_selector and dkim_key, and publish "
                "the public key at <selector>._domainkey." + d.from_domain,
            )
        )
        return False
    name = f"{d.dkim_selector}._domainkey.{d.dkim_domain}"
    records = lookup.txt(name)
    if records is None:
        add(Finding("DKIM", WARN, f"could not look up {name} (DNS failed)"))
        return False
    key = next((r for r in records if "p=" in r), None)
    tags = dict(
        (k.strip().lower(), v.strip())
        for k, _, v in (part.partition("=") for part in (key or "").split(";"))
        if k.strip()
    )
    if key is None or not tags.get("p"):
        gone = " (the key was revoked: p= is empty)" if key is not None else ""
        add(Finding("DKIM", FAIL, f"no DKIM key published at {name}{gone}"))
        return False
    if d.dkim_key:
        published, ours = _public_modulus(tags["p"].replace(" ", "")), _private_modulus(d.dkim_key)
        if published is None or ours is None or published != ours:
            add(
                Finding(
                    "DKIM",
                    FAIL,
                    f"the key at {name} does not match the configured private key: "
                    "signatures will fail",
                )
            )
            return False
    aligned = _aligned(d.dkim_domain, d.from_domain)
    matched = " and matches the configured private key" if d.dkim_key else ""
    if not aligned:
        add(
            Finding(
                "DKIM",
                WARN,
                f"key found at {name}{matched}, but d={d.dkim_domain} is not aligned with "
                f"{d.from_domain}",
            )
        )
        return False
    add(Finding("DKIM", OK, f"key found at {name}{matched}"))
    return True


def _dmarc(lookup: _Lookup, d: MailDomains, report: Report, spf_ok: bool, dkim_ok: bool) -> None:
    add = report.findings.append
    names = [f"_dmarc.{d.from_domain}"]
    org = _org(d.from_domain)
    if org != d.from_domain.lower():
        names.append(f"_dmarc.{org}")
    record: str | None = None
    where = names[0]
    for name in names:
        records = lookup.txt(name)
        if records is None:
            add(Finding("DMARC", WARN, f"could not look up {name} (DNS failed)"))
            return
        found = [r for r in records if r.replace(" ", "").lower().startswith("v=dmarc1")]
        if found:
            record, where = found[0], name
            break
    if record is None:
        add(
            Finding(
                "DMARC",
                FAIL,
                f"no DMARC record at {names[0]}: Gmail and Yahoo require one for bulk senders "
                '(start with "v=DMARC1; p=none; rua=mailto:dmarc@' + d.from_domain + '")',
            )
        )
        return
    policy = re.search(r"\bp\s*=\s*(\w+)", record, re.IGNORECASE)
    value = policy.group(1).lower() if policy else "none"
    if not (spf_ok or dkim_ok):
        add(
            Finding(
                "DMARC",
                FAIL,
                f"{where} says p={value}, but neither SPF nor DKIM passes aligned with "
                f"{d.from_domain}, so DMARC fails for every mail",
            )
        )
    elif value == "none":
        add(
            Finding(
                "DMARC",
                WARN,
                f"{where} has p=none: accepted, but mail forged in your name is not stopped; "
                "move to p=quarantine once the reports are clean",
            )
        )
    else:
        add(Finding("DMARC", OK, f"{where} has p={value}"))
