"""Emails from Jinja2 templates: a text part and an HTML part per message.

The subject is the text template's `subject` block, so wording lives in one place.
Autoescaping is on for HTML: account names are customer input.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=PackageLoader("services.notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(template: str, context: dict[str, Any]) -> RenderedEmail:
    text_template = _env.get_template(f"{template}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(context))).strip()
    body = text_template.render(context)
    text = body.strip()[len(subject) :].lstrip()  # the subject block renders first
    html = _env.get_template(f"{template}.html").render({**context, "subject": subject})
    return RenderedEmail(subject=subject, text=text, html=html)


def build_message(
    rendered: RenderedEmail, *, sender: str, to: str, dedupe_key: str, created: Any
) -> EmailMessage:
    """A multipart/alternative message; its Message-ID is stable per outbox row."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(created)
    domain = sender.rpartition("@")[2] or "billing.local"
    msg["Message-ID"] = make_msgid(idstring=dedupe_key.replace(":", "."), domain=domain)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg
