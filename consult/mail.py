"""Composing and sending mail: text and HTML, in the recipient's language.

Mail is only ever sent from the ``send_email`` job; services enqueue it after their commit.
"""

import os
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

from .clock import now
from .i18n import _l, force_locale

SUBJECTS = {
    "verify_email": _l("Please confirm your e-mail address"),
    "account_exists": _l("Someone tried to register with your e-mail address"),
    "reset_password": _l("Reset your password"),
    "password_changed": _l("Your password was changed"),
    "confirm_new_email": _l("Please confirm your new e-mail address"),
    "email_change_requested": _l("Your e-mail address is being changed"),
    "account_deleted": _l("Your account has been deleted"),
    "new_comment": _l("New comment on your idea"),
    "idea_published": _l("Your idea has been published"),
    "idea_hidden": _l("Your idea has been hidden"),
    "comment_hidden": _l("Your comment has been hidden"),
    "jury_reminder": _l("Reminder: your jury scores are still open"),
    "jury_seated": _l("You are on the jury"),
    "jury_ideas_ready": _l("The shortlist is ready: your ideas are waiting"),
    "cocreator_invitation": _l("Your idea becomes a lab project: join as co-creator?"),
    "project_update": _l("News from a lab project you follow"),
    "results_published": _l("The results are out"),
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
    message["Message-ID"] = make_msgid(domain="consult.local")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the body: set_content() drops Content-* headers set before it.
    message["Content-Language"] = locale
    if context.get("unsubscribe_url"):
        # Mail programs offer their own "unsubscribe" button for this (RFC 2369).
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    deliver(message)


def deliver(message: EmailMessage) -> None:
    """SMTP when configured; otherwise one .eml file per message under MAIL_DIR."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        os.makedirs(cfg["MAIL_DIR"], exist_ok=True)
        name = f"{now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        path = os.path.join(cfg["MAIL_DIR"], name)
        with open(path + ".part", "wb") as fh:
            fh.write(bytes(message))
        os.replace(path + ".part", path)  # readers never see half a mail
        return
    smtp_class = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(message)
