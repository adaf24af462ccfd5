"""Email backends for a site with no SMTP server: private files, or nowhere (and said so)."""

import logging
import os

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend

log = logging.getLogger(__name__)


class PrivateFileBackend(EmailBackend):
    """Django's file backend with files and their folder readable by the site's user only:
    they hold sign-in links and password resets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        os.chmod(self.file_path, 0o700)

    def open(self):
        if self.stream is None:
            path = self._get_filename()
            self.stream = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
            return True
        return False


class NowhereBackend(BaseEmailBackend):
    """A public site with no EMAIL_HOST: send nothing, and say in the log what was dropped."""

    def send_messages(self, email_messages):
        for message in email_messages:
            log.error(
                "Email not sent (no EMAIL_HOST is set): %r to %d recipient(s). Set EMAIL_HOST "
                "to send mail, or SHIPORSKIP_MAIL_DIR to keep it in files.",
                message.subject,
                len(message.recipients()),
            )
        return 0
