"""A real SMTP server on loopback for the lifecycle tests, collecting messages in memory."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notifications.sender import SmtpConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """An aiosmtpd server on a fixed loopback port that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.smtp = SmtpConfig(host="127.0.0.1", port=port, timeout_s=5)
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(raw, policy=default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Running; `mailbox.smtp` is the sender's config, `mailbox.messages` what arrived."""
    box = Mailbox(free_port())
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def smtp_down() -> Iterator[Mailbox]:
    """Nothing listens on its port until the test calls `start()`."""
    box = Mailbox(free_port())
    try:
        yield box
    finally:
        box.stop()
