"""The staff area: roles of accounts and the audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.models import ROLES, User
from ..audit.services import ACTION_LABELS, list_actions
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..permissions import ROLE_LABELS, role_required
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
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit() or form.change.data not in ("grant", "revoke"):
        abort(400)
    try:
        if form.change.data == "grant":
            accounts.grant_role(current_user, user, form.role.data)
            flash(_("Role granted."), "success")
        else:
            accounts.revoke_role(current_user, user, form.role.data)
            flash(_("Role revoked."), "success")
    except UserError as error:
        abort(400, description=error.message)
    return redirect(url_for("admin.users", q=request.args.get("q", "")))


@bp.get("/audit")
@role_required("staff")
def audit_log():
    action = request.args.get("action") or None
    if action is not None and action not in ACTION_LABELS:
        action = None
    pagination = list_actions(page=_page_arg(), action=action)
    return render_template(
        "audit/list.html", pagination=pagination, labels=ACTION_LABELS, action=action
    )
