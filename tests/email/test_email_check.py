"""``bestbot email check`` against a local DNS server (no network): the records a sending
domain can have, and what the command says about each in plain words."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.resolver
import pytest

from bot.cli import main
from tests.email.kit import dkim_keys
from tests.fakes.dns_server import FakeDns

SPF = "v=spf1 include:_spf.mailhost.example -all"
DMARC = "v=DMARC1; p=quarantine; rua=mailto:dmarc@seem.example"


def _dkim() -> str:
    return f"v=DKIM1; k=rsa; p={dkim_keys()[1]}"


GOOD = {
    "seem.example": [SPF, "google-site-verification=abc"],
    "bestbot._domainkey.seem.example": [_dkim()],
    "_dmarc.seem.example": [DMARC],
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    key = tmp_path / "dkim.pem"
    key.write_text(dkim_keys()[0])
    path = tmp_path / "bestbot.toml"
    path.write_text(
        "[email]\n"
        'from_address = "SEEM contract alerts <alerts@seem.example>"\n'
        'bounce_address = "bounces@seem.example"\n'
        'dkim_selector = "bestbot"\n'
        f'dkim_key_path = "{key}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    return path


def _run(
    config: Path, records: dict[str, list[str]], capsys: pytest.CaptureFixture[str], **kw: object
) -> tuple[int, str]:
    with FakeDns(records, **kw) as server:  # type: ignore[arg-type]
        code = main(
            [
                "--config",
                str(config),
                "email",
                "check",
                "--nameserver",
                server.address,
                "--timeout",
                "2",
            ]
        )
    return code, capsys.readouterr().out


def _line(out: str, check: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(check))


def test_a_domain_with_spf_dkim_and_dmarc_passes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(config, GOOD, capsys)
    assert code == 0, out
    assert _line(out, "SPF").split()[1] == "ok"
    assert "matches the configured private key" in _line(out, "DKIM")
    assert "p=quarantine" in _line(out, "DMARC")
    assert "Verdict: Gmail, Yahoo and Microsoft should accept mail from seem.example" in out


@pytest.mark.parametrize(
    ("change", "check", "level", "words"),
    [
        ({"seem.example": ["some-other=txt"]}, "SPF", "fail", "has no SPF record"),
        ({"seem.example": [SPF, "v=spf1 mx -all"]}, "SPF", "fail", "2 SPF records"),
        ({"seem.example": ["v=spf1 +all"]}, "SPF", "warn", "lets any server send"),
        ({"seem.example": ["v=spf1 a mx"]}, "SPF", "warn", "lets any server send"),
        ({"bestbot._domainkey.seem.example": ["v=DKIM1; p="]}, "DKIM", "fail", "revoked"),
        ({"_dmarc.seem.example": ["v=DMARC1; p=none"]}, "DMARC", "warn", "p=none"),
        ({"_dmarc.seem.example": ["v=DMARC1;p=reject"]}, "DMARC", "ok", "p=reject"),
    ],
)
def test_each_record_in_plain_words(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, list[str]],
    check: str,
    level: str,
    words: str,
) -> None:
    code, out = _run(config, {**GOOD, **change}, capsys)
    line = _line(out, check)
    assert line.split()[1] == level and words in line, out
    assert code == (1 if level == "fail" else 0)
    if level == "warn":
        assert "should be delivered, but" in out


def test_missing_records_and_a_key_that_does_not_match(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = _run(config, {"seem.example": [SPF]}, capsys)
    assert code == 1
    assert "no DKIM key published at bestbot._domainkey.seem.example" in out
    assert "no DMARC record at _dmarc.seem.example" in out
    assert "Verdict: Big providers are likely to send mail from seem.example to spam" in out

    # another key pair's public key is published: not ours
    pem = subprocess.run(["openssl", "genrsa", "1024"], check=True, capture_output=True).stdout
    der = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"],
        input=pem,
        check=True,
        capture_output=True,
    ).stdout
    records = {
        **GOOD,
        "bestbot._domainkey.seem.example": [f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"],
    }
    code, out = _run(config, records, capsys)
    assert code == 1 and "does not match the configured private key" in out


def test_no_dkim_configured_and_dmarc_without_alignment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bestbot.toml"
    path.write_text(
        '[email]\nfrom_address = "alerts@seem.example"\n'
        'bounce_address = "bounces@mailhost.example"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    records = {"mailhost.example": [SPF], "_dmarc.seem.example": [DMARC]}
    code, out = _run(path, records, capsys)
    assert code == 1
    assert "not aligned with seem.example" in _line(out, "SPF")
    assert "mail is not DKIM-signed" in _line(out, "DKIM")
    assert "neither SPF nor DKIM passes aligned" in _line(out, "DMARC")


def test_a_subdomain_finds_the_organisation_dmarc_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bestbot.toml"
    path.write_text(
        '[email]\nfrom_address = "alerts@mail.seem.org.uk"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    records = {
        "mail.seem.org.uk": [SPF],
        "_dmarc.seem.org.uk": ["v=DMARC1; p=reject"],
    }
    _code, out = _run(path, records, capsys)
    assert "_dmarc.seem.org.uk has p=reject" in _line(out, "DMARC")


def test_dns_that_does_not_answer_is_said_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(config, GOOD, capsys, fail=["_dmarc.seem.example"])
    assert "could not look up _dmarc.seem.example" in _line(out, "DMARC")
    assert code == 0


def test_without_a_from_address_the_command_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bestbot.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n')
    assert main(["--config", str(path), "email", "check"]) == 2
    assert "set [email] from_address" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The system resolver is never asked: every test names the local server."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the system resolver was used")

    monkeypatch.setattr(dns.resolver, "get_default_resolver", refuse)
    yield
