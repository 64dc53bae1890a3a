"""Which domains the receiving mail server vouches for: ``Authentication-Results``.

A From header proves nothing; the verdict of *our* mail server does. It writes an
``Authentication-Results`` header (RFC 8601) naming itself (the authserv-id) and what it
checked: ``dkim=pass header.d=seem.org.uk``, ``dmarc=pass header.from=seem.org.uk``. A
sender can write such headers too, below the server's — so only headers carrying the
authserv-id configured as ours (``[email.inbound] authserv_id``) are read, and without one
configured nothing is believed (every mail claiming to be an adviser is held).

A domain counts when DKIM passed with a signature of that domain, or DMARC passed for that
``From`` domain (DMARC itself means SPF or DKIM passed *aligned* with it); SPF alone does
not (it vouches for the envelope sender, not the From a person reads). The sender's
domain must be that domain or a subdomain of it (relaxed alignment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["vouched_domains", "vouches_for"]

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)\b(.*)$", re.I | re.S)
_PROPERTY = re.compile(r"([a-z0-9_-]+)\.([a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.I)


def _without_comments(value: str) -> str:
    previous = None
    while previous != value:  # nested comments, innermost first
        previous, value = value, _COMMENT.sub(" ", value)
    return value


def vouched_domains(headers: Iterable[str], authserv_id: str | None) -> set[str]:
    """The domains our server's ``Authentication-Results`` headers say passed."""
    if not authserv_id:
        return set()
    ours = authserv_id.strip().casefold()
    domains: set[str] = set()
    for header in headers:
        parts = _without_comments(" ".join(str(header).split())).split(";")
        server = parts[0].strip().split(" ")[0].casefold() if parts else ""
        if server != ours:
            continue
        for part in parts[1:]:
            found = _RESULT.match(part)
            if found is None:
                continue
            method, result, rest = found.group(1).lower(), found.group(2).lower(), found.group(3)
            if result != "pass":
                continue
            props = {
                f"{p.lower()}.{k.lower()}": v.strip('"') for p, k, v in _PROPERTY.findall(rest)
            }
            if method == "dkim":
                domain = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            elif method == "dmarc":
                domain = props.get("header.from", "")
            else:
                continue
            if domain:
                domains.add(domain.strip().rstrip(".").casefold())
    return domains


def vouches_for(headers: Iterable[str], authserv_id: str | None, sender: str | None) -> bool:
    """Whether our server vouches for ``sender``'s domain."""
    if not sender or "@" not in sender:
        return False
    domain = sender.rpartition("@")[2].strip().rstrip(".").casefold()
    return any(
        domain == d or domain.endswith("." + d) for d in vouched_domains(headers, authserv_id)
    )
