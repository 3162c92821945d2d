"""Forms of the two-factor feature."""

from wtforms import StringField

from ..forms import FlaskForm, max_length, password_field, required
from ..i18n import _l


def code_field(label, hint=None, numeric=True) -> StringField:
    return StringField(
        label,
        validators=[required(), max_length(20)],
        description=hint,
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric" if numeric else "text",
            "autocapitalize": "off",
            "spellcheck": "false",
        },
    )


class EnableForm(FlaskForm):
    code = code_field(
        _l("Six-digit code from the app"),
        _l("The app shows a new code every 30 seconds."),
    )


class CodeForm(FlaskForm):
    code = code_field(
        _l("Code"),
        _l("The six-digit code from your authenticator app, or one of your recovery codes."),
        numeric=False,
    )


class ReauthForm(FlaskForm):
    password = password_field(_l("Password"))
    code = code_field(
        _l("Code"),
        _l("The six-digit code from your authenticator app, or one of your recovery codes."),
        numeric=False,
    )
