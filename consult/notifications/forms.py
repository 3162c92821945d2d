"""The notification settings form: one switch per kind of mail, and the weekly digest."""

from wtforms import BooleanField

from ..forms import FlaskForm
from ..i18n import _l
from .services import KIND_LABELS


class SettingsForm(FlaskForm):
    voting_opens = BooleanField(KIND_LABELS["voting_opens"])
    voting_closes = BooleanField(KIND_LABELS["voting_closes"])
    results = BooleanField(KIND_LABELS["results"])
    answers = BooleanField(KIND_LABELS["answers"])
    comments = BooleanField(KIND_LABELS["comments"])
    projects = BooleanField(KIND_LABELS["projects"])
    digest = BooleanField(
        _l("One mail a week with all of these instead of single mails"),
        description=_l("Mails you switched off above are not in it either."),
    )

    def kinds(self):
        """The kind switches, in the order of ``KINDS``."""
        from .models import KINDS

        return [getattr(self, kind) for kind in KINDS]

    @classmethod
    def for_user(cls, user):
        from .models import KINDS

        values = {kind: getattr(user, f"notify_{kind}") for kind in KINDS}
        return cls(formdata=None, digest=user.digest_weekly, **values)
