"""Forms of the accounts feature."""

from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ..forms import (
    FlaskForm,
    consent_field,
    email_field,
    max_length,
    password_field,
    required,
)
from ..i18n import LANGUAGE_NAMES, _l

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


def pseudonym_field() -> StringField:
    return StringField(
        _l("Public name (pseudonym)"),
        validators=[required(), max_length(40, minimum=3)],
        description=_l("Shown with your ideas and comments. Please do not use your real name."),
        render_kw={"autocomplete": "nickname"},
    )


def language_field() -> SelectField:
    return SelectField(_l("Language for e-mails and pages"), choices=LANGUAGE_CHOICES)


class RegisterForm(FlaskForm):
    email = email_field(_l("E-mail address"))
    password = password_field(_l("Password"), autocomplete="new-password")
    pseudonym = pseudonym_field()
    locale = language_field()
    consent = consent_field(_l("I have read the privacy policy and agree to it."))


class LoginForm(FlaskForm):
    email = email_field(_l("E-mail address"))
    password = password_field(_l("Password"))
    remember = BooleanField(_l("Stay logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = email_field(_l("E-mail address"))


class ResetPasswordForm(FlaskForm):
    password = password_field(_l("New password"), autocomplete="new-password")


class ProfileForm(FlaskForm):
    pseudonym = pseudonym_field()
    locale = language_field()


class NotificationsForm(FlaskForm):
    comments = BooleanField(_l("E-mail me when someone comments on one of my ideas"))


class ChangePasswordForm(FlaskForm):
    current_password = password_field(_l("Current password"))
    new_password = password_field(_l("New password"), autocomplete="new-password")


class ChangeEmailForm(FlaskForm):
    new_email = email_field(_l("New e-mail address"))
    current_password = password_field(_l("Current password"))


class DeleteAccountForm(FlaskForm):
    current_password = password_field(_l("Current password"))
    confirm = consent_field(_l("Yes, delete my account. This cannot be undone."))


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES)
