"""The staff area: roles of accounts and the audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.models import ROLES, User
from ..audit.sentences import ACTION_LABELS, describe_entries
from ..audit.services import list_actions
from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm
from ..i18n import _
from ..permissions import ROLE_ABILITIES, ROLE_LABELS, role_required
from ..two_factor import services as two_factor
from ..two_factor.views import require_recent_auth
from .forms import RoleForm

bp = Blueprint("admin", __name__, url_prefix="/staff")


def _page_arg() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 and int(page) > 0 else 1


@bp.get("/users")
@role_required("staff")
def users():
    query = request.args.get("q", "")
    pagination = accounts.search_users(query, page=_page_arg())
    return render_template(
        "admin/users.html",
        pagination=pagination,
        query=query,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        form=RoleForm(),
    )


@bp.post("/users/<int:user_id>/roles")
@role_required("staff")
def change_role(user_id: int):
    """Grant at once; revoke only after a second POST with confirm=1 (works without script)."""
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit() or form.change.data not in ("grant", "revoke"):
        abort(400)
    role, query = form.role.data, request.args.get("q", "")
    names = {"role": ROLE_LABELS[role], "name": user.pseudonym or ""}
    if form.change.data == "grant":
        # Granting a role hands out power: the actor gives password and code again.
        require_recent_auth(url_for("admin.users", q=query))
    try:
        if form.change.data == "grant":
            accounts.grant_role(current_user, user, role)
            flash(_("%(name)s now has the role %(role)s.", **names), "success")
        elif form.confirm.data != "1" and role in user.roles:
            accounts.check_revocable(current_user, user, role)
            return render_template(
                "admin/confirm_revoke.html",
                user=user,
                role=role,
                role_label=ROLE_LABELS[role],
                abilities=ROLE_ABILITIES[role],
                query=query,
            )
        else:
            accounts.revoke_role(current_user, user, role)
            flash(_("%(name)s no longer has the role %(role)s.", **names), "success")
    except UserError as error:
        abort(400, description=error.message)
    return redirect(url_for("admin.users", q=query))


@bp.post("/users/<int:user_id>/two-factor-reset")
@role_required("staff")
def reset_two_factor(user_id: int):
    """A lost device: another staff member clears the second factor (audited, person mailed)."""
    user = db.session.get(User, user_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    query = request.args.get("q", "")
    require_recent_auth(url_for("admin.users", q=query))
    try:
        two_factor.reset_for(current_user, user)
    except UserError as error:
        abort(error.status, description=error.message)
    flash(
        _(
            "The second factor of %(name)s is reset; they were logged out and mailed.",
            name=user.pseudonym or "",
        ),
        "success",
    )
    return redirect(url_for("admin.users", q=query))


@bp.get("/audit")
@role_required("staff")
def audit_log():
    action = request.args.get("action") or None
    if action is not None and action not in ACTION_LABELS:
        action = None
    pagination = list_actions(page=_page_arg(), action=action)
    return render_template(
        "audit/list.html",
        pagination=pagination,
        entries=describe_entries(pagination.items),
        labels=ACTION_LABELS,
        action=action,
    )
