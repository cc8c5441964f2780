"""Helpers for the document tests: read PDFs back (pypdf), count renders."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from services.documents.content import RenderJob
from services.documents.pool import Renderer


class CountingRenderer:
    """Forwards to the real renderer and remembers every job it was given."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.jobs: list[RenderJob] = []

    @property
    def calls(self) -> int:
        return len(self.jobs)

    async def render(self, job: RenderJob) -> bytes:
        self.jobs.append(job)
        return await self.inner.render(job)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, whitespace collapsed to single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", page.extract_text()).strip() for page in reader.pages]


def pdf_text(data: bytes) -> str:
    return " ".join(pdf_pages(data))
