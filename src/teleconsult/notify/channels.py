"""The ways a message leaves the service: an SMS gateway over HTTP, e-mail over SMTP, and, in
development only, the console.

Each send carries the message's id (an ``Idempotency-Key`` header to the gateway, the
``Message-ID`` of an e-mail), so a message sent again after a crash between sending and
recording it is recognised as the same one by the provider.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiohttp
import aiosmtplib

from ..config import Settings

log = logging.getLogger("teleconsult.notify")
SEND_SECONDS = 15.0


class DeliveryFailed(Exception):
    """The channel did not take the message; it is tried again later."""


@dataclass(frozen=True)
class Outgoing:
    id: str
    address: str
    subject: str
    text: str
    # The secret values in the text (a code, a link): never in a log.
    secrets: tuple[str, ...] = ()


def hint(address: str) -> str:
    """Enough of an address to recognise it: the last digits of a phone, the domain."""
    if not address:
        return ""
    if "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}•••@{domain}"
    return f"•••{address[-4:]}"


class Channel(Protocol):
    async def send(self, message: Outgoing) -> None: ...


class SmsGateway:
    """A POST per message to the provider's URL, with the phone and the text as JSON or as a
    form (``TELECONSULT_SMS_FORMAT``), and the token as a bearer credential."""

    def __init__(self, settings: Settings) -> None:
        assert settings.sms_url is not None
        self.url = settings.sms_url
        self.token = settings.sms_token
        self.format = settings.sms_format
        self.phone_field = settings.sms_phone_field
        self.text_field = settings.sms_text_field
        self._http: aiohttp.ClientSession | None = None

    async def send(self, message: Outgoing) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_SECONDS))
        headers = {"Idempotency-Key": message.id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {self.phone_field: message.address, self.text_field: message.text}
        json_body, form = (body, None) if self.format == "json" else (None, body)
        try:
            async with self._http.post(
                self.url, headers=headers, json=json_body, data=form
            ) as response:
                if response.status >= 300:
                    raise DeliveryFailed(f"SMS gateway answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"SMS gateway unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class Smtp:
    """E-mail through the configured SMTP server (``TELECONSULT_SMTP_*``)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings

    async def send(self, message: Outgoing) -> None:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.smtp_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.id}@teleconsult>"
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                start_tls=s.smtp_starttls,
                timeout=SEND_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"SMTP failed: {type(exc).__name__}") from exc

    async def close(self) -> None:
        return None


class Console:
    """Development only: the message on the console of ``teleconsult serve``, its code or
    link and its address masked (the console is a log). What it "delivers" keeps its code or
    link, for the development outbox page to show."""

    keeps_secrets = True

    async def send(self, message: Outgoing) -> None:
        text = message.text
        for secret in message.secrets:
            text = text.replace(secret, "•••")
        log.warning("message to %s (development only): %s", hint(message.address), text)

    async def close(self) -> None:
        return None


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The channels the settings configure; in development, the console stands in for any
    that is missing."""
    channels: dict[str, Channel] = {}
    if settings.sms_url:
        channels["sms"] = SmsGateway(settings)
    if settings.smtp_host:
        channels["email"] = Smtp(settings)
    if settings.env == "development":
        for name in ("sms", "email"):
            channels.setdefault(name, Console())
    return channels


def real_channels(channels: dict[str, Channel]) -> frozenset[str]:
    """The channels that reach a person outside the service (not the development console)."""
    return frozenset(name for name, channel in channels.items() if not isinstance(channel, Console))
