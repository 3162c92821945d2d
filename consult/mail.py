"""Composing and sending mail: text and HTML, in the recipient's language.

Mail is only ever sent from the ``send_email`` job; services enqueue it after their commit.
"""

import logging
import os
import re
import smtplib
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

from .clock import now
from .i18n import _l, force_locale
from .jobs import current_run

log = logging.getLogger(__name__)

SUBJECTS = {
    "verify_email": _l("Please confirm your e-mail address"),
    "account_exists": _l("Someone tried to register with your e-mail address"),
    "reset_password": _l("Reset your password"),
    "password_changed": _l("Your password was changed"),
    "two_factor_reset": _l("Your second factor was reset"),
    "confirm_new_email": _l("Please confirm your new e-mail address"),
    "email_change_requested": _l("Your e-mail address is being changed"),
    "account_deleted": _l("Your account has been deleted"),
    "new_comment": _l("New comment on your idea"),
    "idea_published": _l("Your idea has been published"),
    "idea_hidden": _l("Your idea has been hidden"),
    "comment_hidden": _l("Your comment has been hidden"),
    "vote_released": _l("Your vote is free again"),
    "idea_merged": _l("Your idea has been merged with a similar one"),
    "idea_merged_follower": _l("An idea you support has been merged with a similar one"),
    "jury_reminder": _l("Reminder: your jury scores are still open"),
    "jury_seated": _l("You are on the jury"),
    "jury_ideas_ready": _l("The shortlist is ready: your ideas are waiting"),
    "cocreator_invitation": _l("Your idea becomes a lab project: join as co-creator?"),
    "project_update": _l("News from a lab project you follow"),
    "results_published": _l("The results are out"),
    "voting_opens": _l("Voting has opened"),
    "voting_closes_soon": _l("Voting closes in 24 hours"),
    "weekly_digest": _l("Your weekly summary"),
    "idea_answered": _l("The city has answered an idea"),
}


def send_templated(to: str, template: str, locale: str, context: dict) -> None:
    """Render ``templates/mail/<template>.txt`` and ``.html`` in ``locale`` and send them."""
    with force_locale(locale):
        context = dict(context, locale=locale, city=current_app.config["CITY_NAME"])
        subject = str(SUBJECTS[template])
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", subject=subject, **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    run = current_run()
    # Stable per outbox row: a mail that staff send again carries the same Message-ID.
    message["Message-ID"] = (
        run.message_id("consult.local") if run else make_msgid(domain="consult.local")
    )
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the body: set_content() drops Content-* headers set before it.
    message["Content-Language"] = locale
    if context.get("unsubscribe_url"):
        # Mail programs offer their own "unsubscribe" button for this (RFC 2369).
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        if context.get("unsubscribe_one_click"):
            # RFC 8058: the mail program may POST "List-Unsubscribe=One-Click" to the link
            # (consult.notifications accepts it; the older links of comments and projects
            # ask for a button press and do not set this).
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    deliver(message)


def deliver(message: EmailMessage) -> None:
    """SMTP when configured; otherwise one .eml file per message under MAIL_DIR.

    Inside a job, the point of no return (the end of the SMTP data, the file's rename) is
    recorded on the outbox row just before it is passed; see ``JobRun.mark_maybe_sent``.
    """
    cfg = current_app.config
    run = current_run()
    if not cfg.get("MAIL_SERVER"):
        os.makedirs(cfg["MAIL_DIR"], exist_ok=True)
        name = f"{now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        path = os.path.join(cfg["MAIL_DIR"], name)
        with open(path + ".part", "wb") as fh:
            fh.write(bytes(message))
        try:
            if run:
                run.mark_maybe_sent()
        except Exception:
            os.remove(path + ".part")
            raise
        os.replace(path + ".part", path)  # readers never see half a mail
        return
    smtp_class = CheckpointSMTP_SSL if cfg["MAIL_USE_SSL"] else CheckpointSMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        if run is None:
            smtp.send_message(message)
            return
        smtp.before_end_of_data = run.mark_maybe_sent
        try:
            smtp.send_message(message)
        except smtplib.SMTPDataError:
            if smtp.data_ended:
                # The server answered the end of data with a refusal: nothing was delivered.
                run.clear_maybe_sent()
            raise
        except Exception:
            if smtp.data_ended:
                log.error(
                    "mail of job %s may have been delivered, the server's answer was lost; "
                    "it is held, see `flask jobs pending`",
                    run.outbox_id,
                )
            raise


_LEADING_DOT = re.compile(rb"(?m)^\.")


class _Checkpoint:
    """smtplib's DATA with a hook just before the final ".": the SMTP point of no return.

    A server delivers a message only once its data has ended, so a send that stops
    earlier (a refusal, a dropped connection, a dead worker) surely delivered nothing.
    When the hook fails (the database is away), the connection is dropped instead of
    ending the data, and the server discards the message.
    """

    before_end_of_data: Callable[[], None] | None = None
    data_ended = False

    def data(self, msg):  # same protocol as smtplib.SMTP.data, plus the hook
        self.putcmd("data")
        code, repl = self.getreply()
        if self.debuglevel > 0:
            self._print_debug("data:", (code, repl))
        if code != 354:
            raise smtplib.SMTPDataError(code, repl)
        if isinstance(msg, str):
            msg = smtplib._fix_eols(msg).encode("ascii")
        body = _LEADING_DOT.sub(b"..", msg)
        if body[-2:] != smtplib.bCRLF:
            body += smtplib.bCRLF
        self.send(body)
        if self.before_end_of_data is not None:
            try:
                self.before_end_of_data()
            except Exception:
                self.close()
                raise
        self.data_ended = True
        self.send(b"." + smtplib.bCRLF)
        return self.getreply()


class CheckpointSMTP(_Checkpoint, smtplib.SMTP):
    pass


class CheckpointSMTP_SSL(_Checkpoint, smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    pass
