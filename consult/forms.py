"""Form pieces shared by all features."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, InputRequired, Length

from .errors import FieldErrors, UserError
from .i18n import _l

__all__ = [
    "FlaskForm",
    "ActionForm",
    "required",
    "max_length",
    "email_field",
    "password_field",
    "consent_field",
]


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token: for buttons that change state."""


def required():
    return DataRequired(message=_l("Please fill in this field."))


def max_length(limit: int, minimum: int = -1):
    if minimum > 0:
        return Length(
            min=minimum,
            max=limit,
            message=_l("Please use between %(min)d and %(max)d characters."),
        )
    return Length(max=limit, message=_l("Please use at most %(max)d characters."))


def email_field(label) -> EmailField:
    return EmailField(
        label, validators=[required(), max_length(254)], render_kw={"autocomplete": "email"}
    )


def password_field(label, autocomplete: str = "current-password") -> PasswordField:
    # Length is checked by the password policy, which explains itself better.
    return PasswordField(
        label,
        validators=[InputRequired(message=_l("Please fill in this field."))],
        render_kw={"autocomplete": autocomplete},
    )


def consent_field(label) -> BooleanField:
    return BooleanField(label, validators=[DataRequired(message=_l("Please agree to continue."))])


def show_error(form: FlaskForm, error) -> None:
    """Attach a service's UserError to its field, or to the form as a whole; a FieldErrors
    (several fields refused at once) to each of its fields."""
    if isinstance(error, FieldErrors):
        for name, message in error.errors.items():
            show_error(form, UserError(message, field=name))
        return
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = (
            [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
        )
    else:
        form.form_errors.append(error.message)


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form that failed, 200 for a fresh one."""
    return 400 if form.is_submitted() else 200
