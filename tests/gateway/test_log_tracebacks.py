"""Tracebacks logged anywhere (the worker, the CLI, a route) keep their frames and
exception classes but never the messages, which can quote rows and inputs."""

from __future__ import annotations

import io
import logging

import pytest

from gateway.logs import log_formatter

SECRET = "4242424242424242 jane@example.com DE136695976"


@pytest.mark.parametrize("json", [True, False])
def test_a_logged_exception_keeps_its_class_and_frames_but_not_its_message(json: bool) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter(json=json))
    log = logging.getLogger("tests.worker_step")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            try:
                raise KeyError(SECRET)
            except KeyError as inner:
                raise ValueError(f"row {SECRET} violates a constraint") from inner
        except ValueError:
            log.exception("worker step %s failed", "outbox")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    out = stream.getvalue()
    assert "worker step outbox failed" in out
    assert "ValueError" in out and "KeyError" in out  # both links of the chain
    assert "test_log_tracebacks.py" in out  # the frames
    for part in SECRET.split():
        assert part not in out
