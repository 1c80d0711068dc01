"""A real SMTP server (aiosmtpd) on a loopback port that keeps every message it receives.

Plain by default (the app must then be told SMTP_SECURITY=none); with `starttls=` it offers
and requires STARTTLS, with `implicit_tls=` it speaks TLS from the first byte (SMTPS).
`TestPki` makes the throw-away CA and server certificate for either, in a temp directory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _over_tls(server: Any) -> bool:
    """Whether this aiosmtpd connection is encrypted (STARTTLS done, or SMTPS)."""
    return server.transport.get_extra_info("ssl_object") is not None


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool = False  # did it arrive encrypted


@dataclass
class Inbox:
    """aiosmtpd handler that keeps every message; `delay` slows each DATA."""

    messages: list[Received] = field(default_factory=list)
    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, _over_tls(server))
        )
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@dataclass
class Accounts:
    """aiosmtpd `authenticator`: accepts `users` (login -> password) and records every
    attempt as (login, whether it came over TLS)."""

    users: dict[str, str]
    attempts: list[tuple[str, bool]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.attempts.append((login, _over_tls(server)))
        return AuthResult(success=self.users.get(login) == password)


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`. `starttls`/`implicit_tls`: a server TLS context (see
    TestPki.server_context); `options`: more aiosmtpd SMTP keywords (authenticator=...,
    auth_require_tls=...)."""

    def __init__(
        self,
        port: int,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        **options: Any,
    ) -> None:
        self.port = port
        self.inbox = Inbox()
        self._options = dict(options)
        if starttls is not None:
            self._options.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            self._options["ssl_context"] = implicit_tls
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class TestPki:
    """A throw-away CA (`ca_file`, PEM) that issues server certificates, all in `directory`.

    Nothing here is meant to last beyond one test run.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PEP Voice test CA")])
        public = self._ca_key.public_key()
        self._ca_cert = (
            self._builder(name, name, public)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca_file = directory / "test-ca.pem"
        self.ca_file.write_bytes(self._ca_cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, *names: str) -> ssl.SSLContext:
        """A server TLS context with a new certificate for `names` (DNS names or IP
        addresses; default 127.0.0.1 and localhost), signed by this CA."""
        names = names or ("127.0.0.1", "localhost")
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        ca_public = self._ca_key.public_key()
        cert = (
            self._builder(subject, self._ca_cert.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self._ca_key, hashes.SHA256())
        )
        stem = self.directory / f"server-{x509.random_serial_number()}"
        cert_file, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context

    @staticmethod
    def _builder(
        subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey
    ) -> x509.CertificateBuilder:
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
        )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
