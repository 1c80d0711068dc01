"""Alerts go over TLS (STARTTLS by default, or SMTPS), and never log in or send in clear.

Real aiosmtpd servers on loopback with a throw-away CA (tests/smtp_server.TestPki).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.alerts.delivery import Outcome, deliver_alert, send_pending_alerts
from bot.alerts.unrecorded import send_unrecorded_notice
from bot.db import session_scope
from bot.models import AlertStatus, AuditEvent, Role
from bot.settings import MailSettings, Settings
from tests.smtp_server import Accounts, SmtpServer, TestPki

from .conftest import concern_row, configure

Build = Callable[..., int]
Serve = Callable[..., SmtpServer]

DSL = ("dsl@oak.example", Role.dsl)
LOGIN = {"smtp_username": "pep-voice", "smtp_password": "correct horse battery"}


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def serve(smtp_port: int) -> Iterator[Serve]:
    """`serve(**SmtpServer options)`: a running server at the configured port (one at a
    time)."""
    running: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        for server in running:
            server.stop()
        server = SmtpServer(smtp_port, **options)
        server.start()
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def default_security(monkeypatch: pytest.MonkeyPatch, smtp_port: int) -> Settings:
    """Undo smtp_port's SMTP_SECURITY=none: the app's default applies."""
    monkeypatch.delenv("SMTP_SECURITY")
    return configure(monkeypatch)


def audit_reasons(concern_id: int) -> list[object]:
    with session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "concern.alert_failed")
        ).all()
        return [e.detail["reason"] for e in events if e.detail.get("concern_id") == concern_id]


def test_the_default_is_starttls_with_the_system_store(default_security: Settings) -> None:
    assert (default_security.mail.security, default_security.mail.ca_file) == ("starttls", None)


def test_alert_over_starttls_trusting_the_test_ca(
    default_security: Settings,
    serve: Serve,
    pki: TestPki,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, smtp_ca_file=str(pki.ca_file))
    server = serve(starttls=pki.server_context())
    concern_id = committed(DSL)
    assert deliver_alert(concern_id) is Outcome.sent
    [received] = server.inbox.messages
    assert (received.rcpt_tos, received.tls) == (["dsl@oak.example"], True)
    assert concern_row(concern_id).alert_status == AlertStatus.sent


def test_alert_over_smtps(
    serve: Serve, pki: TestPki, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, smtp_security="tls", smtp_ca_file=str(pki.ca_file))
    server = serve(implicit_tls=pki.server_context())
    concern_id = committed(DSL)
    assert deliver_alert(concern_id) is Outcome.sent
    [received] = server.inbox.messages
    assert (received.rcpt_tos, received.tls) == (["dsl@oak.example"], True)


@pytest.mark.parametrize(
    ("security", "server_tls", "auth_require_tls"),
    [
        ("starttls", "starttls", True),
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls (and warns); Accounts
        # checks the connection itself, and an SMTPS connection is encrypted throughout.
        pytest.param(
            "tls", "implicit_tls", False, marks=pytest.mark.filterwarnings("ignore:Requiring AUTH")
        ),
    ],
)
def test_login_works_over_tls(
    security: str,
    server_tls: str,
    auth_require_tls: bool,
    serve: Serve,
    pki: TestPki,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, smtp_security=security, smtp_ca_file=str(pki.ca_file), **LOGIN)
    accounts = Accounts({LOGIN["smtp_username"]: LOGIN["smtp_password"]})
    server = serve(
        **{server_tls: pki.server_context()},
        authenticator=accounts,
        auth_required=True,  # no mail without a login
        auth_require_tls=auth_require_tls,
    )
    concern_id = committed(DSL)
    assert deliver_alert(concern_id) is Outcome.sent
    assert accounts.attempts == [("pep-voice", True)]
    [received] = server.inbox.messages
    assert received.tls


def test_a_server_without_starttls_gets_nothing_and_the_alert_waits(
    default_security: Settings,
    serve: Serve,
    pki: TestPki,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No fall-back to plain text: not the login (which this server would take in clear),
    not the alert. The alert stays unsent, with the reason, and is sent once TLS works."""
    configure(monkeypatch, smtp_ca_file=str(pki.ca_file), **LOGIN)
    accounts = Accounts({LOGIN["smtp_username"]: LOGIN["smtp_password"]})
    plain = serve(authenticator=accounts, auth_require_tls=False)
    concern_id = committed(DSL)
    with caplog.at_level(logging.DEBUG):
        assert deliver_alert(concern_id) is Outcome.unsent
    assert (plain.inbox.messages, accounts.attempts) == ([], [])
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts) == (AlertStatus.failed, 1)
    assert audit_reasons(concern_id) == ["SMTPNotSupportedError"]
    assert f"safeguarding alert {concern_id} not sent: SMTPNotSupportedError" in caplog.text
    assert "Zebedee" not in caplog.text and LOGIN["smtp_password"] not in caplog.text

    # The worker's retry delivers it once the server offers STARTTLS.
    secure = serve(starttls=pki.server_context(), authenticator=accounts)
    configure(monkeypatch, alert_retry_delays="[0]")
    assert send_pending_alerts().sent == 1
    assert [m.tls for m in secure.inbox.messages] == [True]
    assert accounts.attempts == [("pep-voice", True)]


def test_unstored_concern_notice_is_not_sent_in_clear_either(
    default_security: Settings,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(monkeypatch, virtual_school_email="head@virtual-school.example")
    plain = serve()
    assert not send_unrecorded_notice(category="physical_abuse", conversation_ref="web:x")
    assert plain.inbox.messages == []
    assert "unstored-concern notice not sent: SMTPNotSupportedError" in caplog.text
    assert "unstored-concern notice could not be sent" in caplog.text


@pytest.mark.parametrize(
    ("security", "trust_ca", "names"),
    [
        ("starttls", False, ()),  # the system store does not know the test CA
        ("tls", False, ()),
        ("starttls", True, ("mail.other.example",)),  # trusted CA, wrong name
    ],
)
def test_an_untrusted_certificate_is_refused(
    security: str,
    trust_ca: bool,
    names: tuple[str, ...],
    serve: Serve,
    pki: TestPki,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(monkeypatch, smtp_security=security, **LOGIN)
    if trust_ca:
        configure(monkeypatch, smtp_ca_file=str(pki.ca_file))
    accounts = Accounts({LOGIN["smtp_username"]: LOGIN["smtp_password"]})
    context = pki.server_context(*names)
    tls_option = {"starttls": context} if security == "starttls" else {"implicit_tls": context}
    server = serve(**tls_option, authenticator=accounts, auth_require_tls=False)
    concern_id = committed(DSL)
    assert deliver_alert(concern_id) is Outcome.unsent
    assert (server.inbox.messages, accounts.attempts) == ([], [])
    assert concern_row(concern_id).alert_status == AlertStatus.failed
    assert audit_reasons(concern_id) == ["SSLCertVerificationError"]
    assert "not sent: SSLCertVerificationError" in caplog.text


def test_settings_refuse_a_login_without_tls(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Plain without a login (a local test server), and a login over TLS, are fine.
    MailSettings(security="none")
    for security in ("starttls", "tls"):
        MailSettings(security=security, username="pep-voice")
    with pytest.raises(ValidationError, match="never log in without TLS"):
        MailSettings(security="none", username="pep-voice")
    with pytest.raises(ValidationError, match="never log in without TLS"):
        configure(monkeypatch, smtp_security="none", smtp_username="pep-voice")


def test_settings_refuse_an_unknown_security(app_settings: Settings) -> None:
    with pytest.raises(ValidationError, match="security"):
        MailSettings(security="ssl")
