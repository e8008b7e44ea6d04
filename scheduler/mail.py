"""E-mail delivery of notifications over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from service.config import MailSettings


class Mailer:
    def __init__(self, settings: MailSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.settings.host)

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Send one plain-text message; raises OSError or smtplib.SMTPException on failure."""
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout) as smtp:
            if self.settings.starttls:
                smtp.starttls()
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password)
            smtp.send_message(message)
