"""Use cases of accounts: register, verify, log in, reset, change, export, delete, roles."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import jobs, ratelimit
from ..audit.services import record_action
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES, _
from ..urls import external_url
from . import personal_data
from .models import ROLES, RoleGrant, User
from .passwords import hash_password, needs_rehash, password_problem, verify_password
from .tokens import consume_token, make_token, read_token

PSEUDONYM_MIN, PSEUDONYM_MAX = 3, 40
# Letters and digits of any script, plus a few joiners; no symbols that could imitate staff.
_PSEUDONYM_PUNCTUATION = set(" .-_'")

# Other features register functions here that add their part to a data export or
# anonymise their part on deletion, so accounts never imports their services. Which
# column of the schema is in the export (or why not) is listed in personal_data.py.
DATA_EXPORTERS: list = []
DELETION_HOOKS: list = []


# --- validation -------------------------------------------------------------------------


def normalize_email(raw: str) -> str:
    """The canonical, lower-cased address; UserError when it is not a valid address."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(_("Please enter a valid e-mail address."), field="email") from exc
    return result.normalized.lower()


def clean_public_name(
    raw, field: str, minimum: int, maximum: int, messages: tuple[str, str], *, marks=False
) -> str:
    """A name shown to other people, as shown (NFC, spaces folded), or a UserError on
    ``field``: a citizen's pseudonym and a participant's name at a live event.

    ``messages``: what to say of a character that is not allowed, and of a name without a
    letter or digit. ``marks`` also allows combining marks (category M).
    """
    name = " ".join(unicodedata.normalize("NFC", raw if isinstance(raw, str) else "").split())
    # Also measured after NFKC: one ligature such as U+FDFA expands to 18 characters in
    # the key, which would overflow pseudonym_key (a server error on PostgreSQL).
    longest = max(len(name), len(unicodedata.normalize("NFKC", name)))
    if len(name) < minimum or longest > maximum:
        raise UserError(
            _("Please use between %(min)d and %(max)d characters.", min=minimum, max=maximum),
            field=field,
        )
    allowed = "LNM" if marks else "LN"
    for char in name:
        # Category C covers control, format (bidi overrides, zero-width) and unassigned.
        if unicodedata.category(char)[0] in allowed or char in _PSEUDONYM_PUNCTUATION:
            continue
        raise UserError(messages[0], field=field)
    if not any(unicodedata.category(c)[0] in "LN" for c in name):
        raise UserError(messages[1], field=field)
    return name


def clean_pseudonym(raw: str) -> tuple[str, str]:
    """The pseudonym as shown and its folded key; UserError when it is not acceptable."""
    name = clean_public_name(
        raw,
        "pseudonym",
        PSEUDONYM_MIN,
        PSEUDONYM_MAX,
        (
            _("Please use only letters, digits, spaces and . - _ ' in your public name."),
            _("Your public name needs at least one letter or digit."),
        ),
    )
    key = unicodedata.normalize("NFKC", name).casefold()
    return name, key


def _check_password(password: str, *personal: str | None, field: str = "password") -> None:
    problem = password_problem(password, *personal)
    if problem:
        raise UserError(problem, field=field)


def _locale(value: str) -> str:
    return value if value in SUPPORTED_LOCALES else "de"


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _pseudonym_taken(key: str, except_user: User | None = None) -> bool:
    query = select(func.count()).select_from(User).where(User.pseudonym_key == key)
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return db.session.scalar(query) > 0


def _mail(user_or_address, template: str, locale: str, **context) -> None:
    to = user_or_address if isinstance(user_or_address, str) else user_or_address.email
    jobs.enqueue(jobs.send_email, to, template, locale, context)


# --- registration and verification ------------------------------------------------------


def register_user(email: str, password: str, pseudonym: str, locale: str) -> User | None:
    """Create an unverified account and mail a verification link.

    An address that already has an account gets the same answer on screen and a mail
    telling its owner, so nobody can find out which addresses are registered.
    """
    # Everything that does not depend on the address is checked first, so the answer
    # for a registered address can be identical to the one for a new address.
    email = normalize_email(email)
    locale = _locale(locale)
    name, key = clean_pseudonym(pseudonym)
    _check_password(password, email, name)
    if _pseudonym_taken(key):
        raise UserError(
            _("This public name is already taken. Please choose another."), field="pseudonym"
        )
    existing = find_user_by_email(email)
    if existing is not None:
        # Throttled silently, like reset links: otherwise anyone could flood the owner's
        # inbox by registering the address again and again.
        key = f"exists-mail:{existing.id}"
        if not ratelimit.retry_after(key, limit=5, window=3600):
            ratelimit.hit(key, window=3600)
            _mail(
                email,
                "account_exists",
                existing.locale,
                login_url=external_url("accounts.login"),
                reset_url=external_url("accounts.forgot_password"),
            )
            db.session.commit()
        return None
    user = User(
        email=email,
        password_hash=hash_password(password),
        pseudonym=name,
        pseudonym_key=key,
        locale=locale,
        privacy_consent_at=now(),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Lost a race with an identical registration: answer as for an existing address.
        db.session.rollback()
        return None
    _send_verification(user)
    db.session.commit()
    return user


def _send_verification(user: User) -> None:
    token = make_token("verify", user.id, e=user.email)
    _mail(
        user,
        "verify_email",
        user.locale,
        name=user.pseudonym,
        url=external_url("accounts.verify_email", token=token),
    )


def resend_verification(user: User) -> None:
    """Mail a fresh verification link (throttled to a few per hour)."""
    key = f"verify-mail:{user.id}"
    wait = ratelimit.retry_after(key, limit=5, window=3600)
    if wait:
        raise ratelimit.too_many(
            wait,
            _(
                "We have sent several links already. Please check your inbox and spam folder, or try again later."
            ),
        )
    ratelimit.hit(key, window=3600)
    _send_verification(user)
    db.session.commit()


def _use_link(purpose: str, token: str, address_key: str, invalid: str) -> tuple[User, dict]:
    """Use up an e-mail link; its account must be active and still have the linked address."""
    payload = consume_token(purpose, token, current_app.config["VERIFY_LINK_MAX_AGE"])
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active or user.email != payload.get(address_key):
        db.session.rollback()
        raise UserError(invalid)
    return user, payload


def verify_email(token: str) -> User:
    """Use a verification link: the account becomes a verified citizen."""
    user, _payload = _use_link(
        "verify",
        token,
        "e",
        _("This link is not valid. Please copy it completely from the e-mail."),
    )
    if user.email_verified_at is None:
        _mark_verified(user)
    db.session.commit()
    return user


def _mark_verified(user: User) -> None:
    """Verification makes a citizen, once: a later link must not undo a staff revocation."""
    user.email_verified_at = now()
    # Staff may have granted "citizen" before verification; a second grant would
    # violate the primary key of role_grants.
    if "citizen" not in user.roles:
        user.role_grants.append(RoleGrant(role="citizen"))


# --- logging in -------------------------------------------------------------------------


def authenticate(email: str, password: str, address: str) -> User:
    """Check the credentials, throttled per account and per client address.

    Raises 429 (with Retry-After) when throttled, UserError when the credentials are wrong.
    The per-address limit is high, because many phones share one carrier address.
    """
    cfg = current_app.config
    window = cfg["LOGIN_THROTTLE_WINDOW"]
    # Keyed by the canonical address: spellings that reach the same account (such as a
    # full-width domain) must not each get their own allowance of guesses.
    try:
        canonical = normalize_email(email)
    except UserError:
        canonical = None
    email_key = "login:" + (canonical or email.strip().lower()[:254])
    address_key = f"login-addr:{address}"
    limits = [
        (email_key, cfg["LOGIN_FAILURES_PER_ACCOUNT"]),
        (address_key, cfg["LOGIN_FAILURES_PER_ADDRESS"]),
    ]
    wait = ratelimit.retry_after_any(limits, window)
    if wait:
        raise ratelimit.too_many(
            wait,
            _(
                "Too many failed attempts. Please wait %(minutes)d minutes or reset your password.",
                minutes=ratelimit.wait_minutes(wait),
            ),
        )
    user = find_user_by_email(canonical) if canonical else None
    if not verify_password(user.password_hash if user else None, password) or not user.is_active:
        ratelimit.hit(email_key, window)
        ratelimit.hit(address_key, window)
        raise UserError(_("The e-mail address or the password is not correct."), status=401)
    ratelimit.reset(email_key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _drop_directory_roles(user)
    db.session.commit()
    return user


def _drop_directory_roles(user: User) -> None:
    """Roles mapped from the city's directory (source "sso") last only while the person
    signs in through it: a password login cannot tell whether the directory still grants
    them (someone who left the press office), so they go until the next sign-on, which
    grants them again if the claim is still there. Audited; local grants stay."""
    for grant in [g for g in user.role_grants if g.source == "sso"]:
        user.role_grants.remove(grant)
        record_action(None, "sso.role_revoke_password", "user", user.id, role=grant.role)


# --- passwords --------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; the caller answers the same either way."""
    try:
        user = find_user_by_email(normalize_email(email))
    except UserError:
        return
    if user is None or not user.is_active:
        return
    key = f"reset-mail:{user.id}"
    if ratelimit.retry_after(key, limit=5, window=3600):
        return  # silently: the answer must not differ from an unknown address
    ratelimit.hit(key, window=3600)
    token = make_token("reset", user.id, s=user.session_version)
    _mail(
        user,
        "reset_password",
        user.locale,
        name=user.pseudonym,
        url=external_url("accounts.reset_password", token=token),
    )
    db.session.commit()


def reset_password(token: str, password: str) -> User:
    """Use a reset link: set the new password and end every other session."""
    payload = read_token("reset", token, current_app.config["RESET_LINK_MAX_AGE"])
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active or user.session_version != payload.get("s"):
        raise UserError(_("This link is no longer valid. Please request a new one."))
    # Checked before the link is used up, so it stays usable for a better password.
    _check_password(password, user.email, user.pseudonym)
    consume_token("reset", token, current_app.config["RESET_LINK_MAX_AGE"])
    _set_password(user, password)
    # Whoever could open the mail controls the address, so it counts as verified.
    if user.email_verified_at is None:
        _mark_verified(user)
    db.session.commit()
    ratelimit.reset("login:" + user.email)
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1
    _mail(
        user,
        "password_changed",
        user.locale,
        name=user.pseudonym,
        reset_url=external_url("accounts.forgot_password"),
    )


def change_password(user: User, current: str, new: str) -> None:
    """Change the password (the current one is required); other sessions end."""
    if not verify_password(user.password_hash, current):
        raise UserError(_("The current password is not correct."), field="current_password")
    _check_password(new, user.email, user.pseudonym, field="new_password")
    _set_password(user, new)
    db.session.commit()


# --- profile and e-mail change ----------------------------------------------------------


def update_profile(user: User, pseudonym: str, locale: str) -> None:
    """Change the public name and the language."""
    name, key = clean_pseudonym(pseudonym)
    if _pseudonym_taken(key, except_user=user):
        raise UserError(
            _("This public name is already taken. Please choose another."), field="pseudonym"
        )
    user.pseudonym, user.pseudonym_key = name, key
    user.locale = _locale(locale)
    db.session.commit()


def set_notifications(user: User, comments: bool) -> None:
    """Switch the mails about new comments on one's ideas on or off."""
    user.notify_comments = bool(comments)
    db.session.commit()


def unsubscribe_url(user: User) -> str:
    """A lasting link that switches notification mails off without logging in."""
    return external_url("accounts.unsubscribe", token=make_token("unsubscribe", user.id))


def unsubscribe(token: str) -> User:
    """Use an unsubscribe link (any number of times): no more notification mails."""
    payload = read_token("unsubscribe", token, max_age=None)
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        raise UserError(_("This link is not valid. Please copy it completely from the e-mail."))
    user.notify_comments = False
    db.session.commit()
    return user


def set_language(user: User, locale: str) -> None:
    """Remember the language a logged-in user picked in the switcher."""
    user.locale = _locale(locale)
    db.session.commit()


def request_email_change(user: User, password: str, new_email: str) -> None:
    """Mail a confirmation link to the new address; the old address is told too."""
    if not verify_password(user.password_hash, password):
        raise UserError(_("The current password is not correct."), field="current_password")
    try:
        new_email = normalize_email(new_email)
    except UserError as error:
        # Tied to the form's own field, so the message shows (and is announced) next to it.
        raise UserError(error.message, field="new_email") from error
    if new_email == user.email:
        raise UserError(_("This is already your e-mail address."), field="new_email")
    # A taken address gets the same answer, to prevent enumeration; confirming fails later.
    token = make_token("email", user.id, e=new_email, old=user.email)
    _mail(
        new_email,
        "confirm_new_email",
        user.locale,
        name=user.pseudonym,
        url=external_url("accounts.confirm_email_change", token=token),
    )
    _mail(user, "email_change_requested", user.locale, name=user.pseudonym, new_email=new_email)
    db.session.commit()


def confirm_email_change(token: str) -> User:
    """Use the confirmation link: the new address replaces the old one, already verified."""
    user, payload = _use_link(
        "email", token, "old", _("This link is no longer valid. Please request a new one.")
    )
    if find_user_by_email(payload["e"]) is not None:
        db.session.rollback()
        raise UserError(_("This e-mail address already belongs to another account."))
    user.email = payload["e"]
    user.email_verified_at = now()
    db.session.commit()
    return user


# --- your data --------------------------------------------------------------------------


def export_user_data(user: User) -> dict:
    """Everything we store about the user, as JSON-ready data (GDPR Art. 15 and 20)."""
    data = {
        "format": "consult-personal-data/1",
        "exported_at": now().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "pseudonym": user.pseudonym,
            "language": user.locale,
            "created_at": user.created_at.isoformat(),
            "email_verified_at": user.email_verified_at.isoformat()
            if user.email_verified_at
            else None,
            "privacy_consent_at": user.privacy_consent_at.isoformat()
            if user.privacy_consent_at
            else None,
            "roles": sorted(user.roles),
            "mails_about_new_comments": user.notify_comments,
            # Whether two factors are on, never the secret or the recovery codes.
            "two_factor_authentication": user.uses_totp,
        },
    }
    for exporter in (*personal_data.OWN_EXPORTERS, *DATA_EXPORTERS):
        data.update(exporter(user))
    return data


def delete_account(user: User, password: str) -> None:
    """Anonymise the account: contributions stay as "deleted account", the person is gone.

    E-mail, name and password are erased, roles removed, every session ended; the row
    stays so that votes remain as anonymous counts and content keeps its place.
    """
    if not verify_password(user.password_hash, password):
        raise UserError(_("The current password is not correct."), field="current_password")
    address, locale = user.email, user.locale
    for hook in DELETION_HOOKS:
        hook(user)
    user.email = None
    user.pseudonym = None
    user.pseudonym_key = None
    user.password_hash = None
    user.deleted_at = now()
    user.session_version += 1
    user.role_grants.clear()
    _mail(address, "account_deleted", locale)
    db.session.commit()


# --- roles ------------------------------------------------------------------------------


def grant_role(actor: User, user: User, role: str) -> None:
    """Give ``user`` a role; audited."""
    if role not in ROLES:
        raise UserError(_("Unknown role."))
    if not user.is_active:
        raise UserError(_("This account has been deleted."))
    if role in user.roles:
        return
    user.role_grants.append(RoleGrant(role=role, granted_by_id=actor.id))
    record_action(actor, "role.grant", "user", user.id, role=role)
    db.session.commit()


def check_revocable(actor: User, user: User, role: str) -> None:
    """UserError when ``actor`` may not take ``role`` from ``user``; asked before confirming."""
    if role not in ROLES:
        raise UserError(_("Unknown role."))
    if actor.id == user.id and role == "staff":
        raise UserError(_("You cannot remove your own staff role. Ask another staff member."))


def revoke_role(actor: User, user: User, role: str) -> None:
    """Take a role away; audited. Staff cannot remove their own staff role (no lock-out)."""
    check_revocable(actor, user, role)
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return
    user.role_grants.remove(grant)
    record_action(actor, "role.revoke", "user", user.id, role=role)
    db.session.commit()


def search_users(query: str, page: int = 1):
    """Accounts for the role page, by e-mail or pseudonym, newest first."""
    stmt = select(User).where(User.deleted_at.is_(None)).order_by(User.id.desc())
    query = query.strip()[:254]
    if query:
        like = (
            "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            User.email.like(like, escape="\\") | User.pseudonym_key.like(like, escape="\\")
        )
    return db.paginate(stmt, page=page, per_page=50, error_out=False)


def create_admin(email: str, password: str) -> User:
    """The first staff account, from the command line: verified, citizen and staff."""
    email = normalize_email(email)
    _check_password(password, email)
    user = find_user_by_email(email)
    if user is None:
        local = email.split("@")[0]
        base = "".join(c for c in local if c.isalnum())[:30] or "staff"
        name, key = clean_pseudonym(base if len(base) >= 3 else f"staff-{base}")
        suffix = 1
        while _pseudonym_taken(key):
            suffix += 1
            name, key = clean_pseudonym(f"{base}-{suffix}")
        user = User(
            email=email, pseudonym=name, pseudonym_key=key, locale="de", privacy_consent_at=now()
        )
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or now()
    db.session.flush()
    for role in ("citizen", "staff"):
        if role not in user.roles:
            user.role_grants.append(RoleGrant(role=role))
    record_action(None, "account.create_admin", "user", user.id)
    db.session.commit()
    return user
