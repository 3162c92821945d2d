"""Forms of the staff area."""

from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice

from ..accounts.models import ROLES
from ..forms import FlaskForm, required


class RoleForm(FlaskForm):
    role = SelectField(
        choices=[SelectChoice(role, role) for role in ROLES], validators=[required()]
    )
    # "grant" or "revoke": which button was pressed.
    change = HiddenField(validators=[required()])
    # "1" on the confirmation page: a revocation takes effect only then.
    confirm = HiddenField()
