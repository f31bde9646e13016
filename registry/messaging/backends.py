"""Where a message goes: one class per backend with `send(message, message_id)`, which raises on failure.

MESSAGE_BACKEND chooses: "console" (development: logged and printed), "memory" (tests: kept on the app),
"gateway" (production: e-mail over SMTP through Flask-Mailman, SMS by a JSON POST to SMS_GATEWAY_URL).
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    channel: str      # "sms" or "email"
    to: str
    subject: str
    body: str


class DeliveryError(Exception):
    """The backend could not hand the message over (it is retried later)."""


class ConsoleBackend:
    """Development: write each message to the log and to stdout."""

    def send(self, message: Message, message_id: int) -> None:
        text = f"[{message.channel} → {message.to}] {message.subject}\n{message.body}"
        log.info("outgoing message %s %s", message_id, text)
        print(text, flush=True)


class MemoryBackend:
    """Tests: keep every message in a list on the app."""

    def send(self, message: Message, message_id: int) -> None:
        current_app.extensions.setdefault("complaint_messages", []).append(message)


class SmtpEmail:
    """E-mail through the SMTP server in MAIL_SERVER/MAIL_PORT (Flask-Mailman settings)."""

    def send(self, message: Message, message_id: int) -> None:
        from flask_mailman import EmailMessage

        config = current_app.config
        email = EmailMessage(subject=message.subject, body=message.body, from_email=config["MAIL_DEFAULT_SENDER"],
                             to=[message.to], headers={"X-Registry-Message": str(message_id)})
        try:
            email.send(fail_silently=False)
        except Exception as error:  # smtplib and socket errors alike: retried later
            raise DeliveryError(f"SMTP: {type(error).__name__}: {error}") from error


class HttpSms:
    """SMS through one HTTP gateway: POST {"to", "text", "id"} as JSON with the key as a bearer token.

    Any 2xx answer is success; the id lets a gateway drop a repeated request."""

    def send(self, message: Message, message_id: int) -> None:
        config = current_app.config
        url = config.get("SMS_GATEWAY_URL")
        if not url:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        payload = json.dumps({"to": message.to, "text": f"{message.subject}\n{message.body}", "id": str(message_id)},
                             ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=payload, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {config.get('SMS_GATEWAY_KEY') or ''}"})
        try:
            with urllib.request.urlopen(request, timeout=float(config["SMS_GATEWAY_TIMEOUT"])) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"SMS gateway answered {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"SMS gateway unreachable: {error}") from error


class GatewayBackend:
    """Production: each channel to its own service."""

    def __init__(self):
        self.channels = {"email": SmtpEmail(), "sms": HttpSms()}

    def send(self, message: Message, message_id: int) -> None:
        channel = self.channels.get(message.channel)
        if channel is None:
            raise DeliveryError(f"unknown channel {message.channel!r}")
        channel.send(message, message_id)


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend, "gateway": GatewayBackend}


def backend():
    name = current_app.config.get("MESSAGE_BACKEND") or ("memory" if current_app.testing else "console")
    try:
        return BACKENDS[name]()
    except KeyError:
        raise DeliveryError(f"unknown MESSAGE_BACKEND {name!r}") from None
