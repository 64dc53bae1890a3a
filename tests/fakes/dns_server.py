"""A tiny authoritative DNS server on 127.0.0.1 (UDP, a random port) for the DNS checks.

It answers TXT queries from a dict (name -> list of strings; a string longer than 255
bytes is split into several character-strings, as real servers do) and says NXDOMAIN
for anything else; ``fail`` names answer SERVFAIL. Real dnspython messages on the wire,
so the resolver under test takes its ordinary code path. Use as a context manager::

    with FakeDns({"example.org": ["v=spf1 -all"]}) as dns_server:
        resolver_for([dns_server.address])
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Mapping

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

__all__ = ["FakeDns"]


class FakeDns:
    def __init__(self, records: Mapping[str, Iterable[str]], *, fail: Iterable[str] = ()) -> None:
        self.records = {k.lower().rstrip("."): list(v) for k, v in records.items()}
        self.fail = {f.lower().rstrip(".") for f in fail}
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakeDns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                reply = self._answer(dns.message.from_wire(data))
            except Exception:
                continue
            self._sock.sendto(reply.to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        (question,) = query.question
        name = question.name.to_text().lower().rstrip(".")
        self.queries.append(name)
        if name in self.fail:
            reply.set_rcode(dns.rcode.SERVFAIL)
            return reply
        values = self.records.get(name)
        if values is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
            return reply
        if question.rdtype != dns.rdatatype.TXT:
            return reply  # NOERROR, no answer
        texts = []
        for value in values:
            raw = value.encode()
            chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
            texts.append(" ".join('"' + c.decode().replace('"', '\\"') + '"' for c in chunks))
        rrset = dns.rrset.from_text_list(question.name, 300, "IN", "TXT", texts)
        reply.answer.append(rrset)
        return reply
