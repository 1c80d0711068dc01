"""Fixtures for the services that send mail (alerts, teacher notices): a real SMTP server
(aiosmtpd) at the port each folder's `smtp_port` fixture configures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import SmtpServer


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[SmtpServer]:
    """A running server at the configured SMTP port."""
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stopped_smtp_server(smtp_port: int) -> Iterator[SmtpServer]:
    """A server for the configured port that the test starts when it likes."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()
