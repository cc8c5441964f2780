"""The demo's mailbox: a loopback SMTP server that saves every message as a .eml file."""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._seq):04d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start_mailbox(folder: Path, port: int = 0) -> Controller:
    """Start the server on 127.0.0.1 (port 0: a free one); `.port` tells which."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_SaveToFolder(folder), hostname="127.0.0.1", port=port or _free_port())
    controller.start()
    return controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
