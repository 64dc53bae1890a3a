"""A real Dovecot IMAP server on 127.0.0.1 for the email-intake tests.

Not a fake: Debian's ``dovecot-imapd`` started with a throw-away config in a
temporary directory (plaintext passwd-file user, Maildir) on a random free
port, plus implicit TLS on ``tls_port`` with a self-signed certificate that
``client_tls_context`` trusts; run in the foreground (``dovecot -F``) and
stopped after.

Works as root (mail is owned by the ``dovecot`` system user) and as an
ordinary user (every Dovecot process runs as that user).

Use the fixtures::

    def test_it(dovecot): # fresh, empty INBOX on a module-wide server
        dovecot.append(b"From: a@example.org\\r\\n...")
        cfg = dovecot.inbound_config()          # an InboundEmailConfig for it

When ``dovecot`` isn't installed the tests skip, except in CI
(``CI=true``) where they fail: ``.ci/run`` installs ``dovecot-imapd``.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import InboundEmailConfig
from tests.conftest import require_service
from tests.fakes.smtp import self_signed_cert

__all__ = ["Dovecot", "DovecotUnavailable", "dovecot", "dovecot_server"]

USER = "bestbot"
PASSWORD = "imap-test-secret"


class DovecotUnavailable(RuntimeError):
    """Dovecot isn't installed here (or wouldn't start)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


def _version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    match = re.match(r"(\d+)\.(\d+)", out.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (2, 3)


class Dovecot:
    """One Dovecot instance; ``start()`` / ``stop()`` or use as a context manager."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        #: The implicit-TLS (imaps) port; 0 if no certificate could be made.
        self.tls_port = 0
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self.user = USER
        self.password = PASSWORD
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.version = (0, 0)
        self._internal = self._login = self._mail = ""

    # -- lifecycle

    def start(self) -> Dovecot:
        binary = _binary()
        if binary is None:
            raise DovecotUnavailable("dovecot is not installed (apt-get install dovecot-imapd)")
        self.version = _version(binary)
        # Short path: Dovecot's UNIX sockets live under base_dir (108-byte limit).
        self.root = Path(tempfile.mkdtemp(prefix="bbdc-"))
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        mail_user = self._accounts()
        if os.geteuid() == 0:
            pw = pwd.getpwnam(mail_user)
            os.chown(self.root / "mail", pw.pw_uid, pw.pw_gid)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        self.port = _free_port()
        try:
            self.cert_path, self.key_path = self_signed_cert()
            self.tls_port = _free_port()
        except (OSError, subprocess.CalledProcessError):  # no openssl: plain IMAP only
            self.cert_path = self.key_path = None
            self.tls_port = 0
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        log = (self.root / "dovecot.out").open("wb")
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        """Dovecot's own log so far (for assertion messages)."""
        if self.root is None:
            return ""
        parts = []
        for name in ("dovecot.out", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def _accounts(self) -> str:
        """The system user owning mail; as non-root, everything runs as ourselves."""
        if os.geteuid() == 0:
            for name in ("dovecot", "nobody"):
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    continue
                self._internal, self._login, self._mail = name, self._login_user(), name
                return name
            raise DovecotUnavailable("no unprivileged system user for dovecot")
        me = pwd.getpwuid(os.geteuid()).pw_name
        self._internal = self._login = self._mail = me
        return me

    @staticmethod
    def _login_user() -> str:
        for name in ("dovenull", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        return "nobody"  # pragma: no cover

    def _config(self) -> str:
        assert self.root is not None
        root = self.root
        mail_pw = pwd.getpwnam(self._mail)
        group = grp.getgrgid(mail_pw.pw_gid).gr_name
        chroot = "\n  chroot =" if os.geteuid() != 0 else ""
        common = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = bestbot-test-{self.port}
log_path = {root}/dovecot.log
{self._ssl_settings()}
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {self._internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self._internal).pw_gid).gr_name}
default_login_user = {self._login}
first_valid_uid = 1
first_valid_gid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}{chroot}
}}
"""
        # A closed anvil-auth-penalty socket turns off the growing delay after a wrong
        # password (tests try one on purpose); an ordinary user can't chroot either.
        anvil_chroot = "\n  chroot =" if os.geteuid() != 0 else ""
        common += (
            "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }"
            f"{anvil_chroot}\n}}\n"
        )
        if self.version >= (2, 4):
            return f"""dovecot_config_version = {self.version[0]}.{self.version[1]}.0
dovecot_storage_version = {self.version[0]}.{self.version[1]}.0
{common}
auth_allow_cleartext = yes
mail_driver = maildir
mail_path = {root}/mail/%{{user}}
mail_home = {root}/mail/%{{user}}
mail_uid = {self._mail}
mail_gid = {group}
passdb passwd-file {{
  passwd_file_path = {root}/users
  default_password_scheme = PLAIN
}}
userdb static {{
}}
"""
        return f"""{common}
disable_plaintext_auth = no
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={self._mail} gid={group} home={root}/mail/%u
}}
"""

    def _ssl_settings(self) -> str:
        if self.cert_path is None or self.key_path is None:
            return "ssl = no"
        if self.version >= (2, 4):
            return (
                f"ssl = yes\nssl_server_cert_file = {self.cert_path}\n"
                f"ssl_server_key_file = {self.key_path}"
            )
        return f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.key_path}"

    @property
    def client_tls_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's self-signed certificate."""
        if self.cert_path is None:
            raise RuntimeError("dovecot was started without TLS (no openssl)")
        return ssl.create_default_context(cafile=str(self.cert_path))

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise DovecotUnavailable(f"dovecot exited at start:\n{self.log()[-3000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise DovecotUnavailable(f"dovecot did not answer in {timeout}s:\n{self.log()[-3000:]}")

    # -- helpers for tests

    def inbound_config(self, **changes: Any) -> InboundEmailConfig:
        """An ``[email.inbound]`` config pointing at this server (plain IMAP)."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.user,
            "password": self.password,
            "ssl": False,
            "folder": "INBOX",
            "address": "enquiries@seem.example",
        }
        values.update(changes)
        return InboundEmailConfig(**values)

    def client(self) -> imaplib.IMAP4:
        """A logged-in IMAP client with INBOX selected; call ``logout()`` after."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        imap.select("INBOX")
        return imap

    def append(self, raw: bytes, flags: str | None = None, folder: str = "INBOX") -> int:
        """APPEND one message (as a mail client or MTA would); returns its UID."""
        imap = self.client()
        try:
            status, data = imap.append(folder, flags, None, raw)
            assert status == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert match, data
            return int(match.group(1))
        finally:
            imap.logout()

    def flags(self) -> dict[int, set[str]]:
        """UID -> flags of every message in INBOX."""
        imap = self.client()
        try:
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", data
            result: dict[int, set[str]] = {}
            for item in data:
                if not isinstance(item, bytes):
                    continue
                match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item)
                if match:
                    result[int(match.group(1))] = set(match.group(2).decode().split())
            return result
        finally:
            imap.logout()

    def clear(self) -> None:
        """Delete every message in INBOX (module-scoped servers reuse one mailbox)."""
        imap = self.client()
        try:
            status, data = imap.search(None, "ALL")
            if status == "OK" and data and data[0]:
                imap.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                imap.expunge()
        finally:
            imap.logout()


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot per test module (start-up takes a fraction of a second, but adds up)."""
    server = Dovecot()
    try:
        server.start()
    except DovecotUnavailable as exc:
        require_service(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The module's Dovecot with an empty INBOX."""
    dovecot_server.clear()
    return dovecot_server
