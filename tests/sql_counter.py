"""Count the SQL statements Tortoise sends, from its `tortoise.db_client` debug log.

Every execute method of every backend logs the statement once at DEBUG before
running it; connection-pool messages are not statements and are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(_VERBS):
            self.statements.append(message)


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Yields the list the statements run inside the block are appended to."""
    logger = logging.getLogger("tortoise.db_client")
    collector = _Collector()
    previous = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.DEBUG)
    try:
        yield collector.statements
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous)
