"""Sign-on through the city's OpenID Connect provider: the code flow, the account and its
roles (README "Single sign-on (OpenID Connect)").

Rules:
- An account is found by (issuer, subject) only, never by a changed e-mail address.
- At a first sign-on, an existing account is linked when the provider vouches for the
  e-mail address (``email_verified`` true, or SSO_TRUST_EMAIL); otherwise a new account is
  made. New accounts get no "citizen" role: they are the city's work accounts, and staff
  should not vote or submit ideas with them (a role map may still grant it).
- Roles mapped from the role claim are granted with source "sso" and taken away at the
  next sign-on whose claim no longer carries them; "local" grants are never touched.
- Every failure is a UserError with a translated message; nothing is written before the
  ID token has been checked (signature, issuer, audience, expiry, nonce).
"""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.oidc.core import CodeIDToken
from flask import current_app, request, session
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..accounts.models import RoleGrant, SsoIdentity, User
from ..accounts.services import (
    PSEUDONYM_MAX,
    clean_pseudonym,
    find_user_by_email,
    normalize_email,
)
from ..audit.services import record_action
from ..errors import UserError
from ..extensions import db
from ..i18n import _, current_locale
from ..urls import external_url

log = logging.getLogger(__name__)


class _IdToken(CodeIDToken):
    """Checked against consult's clock (consult.clock), as every other expiry is."""

    def validate(self, now=None, leeway=0):
        super().validate(int(clock.now().timestamp()), leeway)


def _client():
    return current_app.extensions["consult_sso"].city


def _unavailable(error: Exception) -> UserError:
    log.warning("single sign-on: the provider did not answer: %s", error)
    return UserError(
        _("The city's sign-in service cannot be reached at the moment. Please try again later."),
        status=503,
    )


def _load_metadata(client) -> dict:
    """The provider's discovery document, whose issuer must be the configured one
    (OpenID Connect Discovery 4.3: a document naming another issuer is not this provider)."""
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise _unavailable(error) from error
    issuer = current_app.config["SSO_ISSUER"]
    if str(metadata.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        client.server_metadata.clear()  # ask again next time
        log.warning("single sign-on: discovery names issuer %r", metadata.get("issuer"))
        raise UserError(
            _("The city's sign-in service is not set up correctly. Please tell the city."),
            status=503,
        )
    return metadata


def start_sign_on(fresh: bool = False) -> str:
    """The provider's authorization URL; state, nonce and PKCE verifier wait in the session.

    ``fresh``: the person confirms it is them before an act that needs it (consult's
    re-authentication): ``max_age=0`` makes the provider ask again even if it has a
    session, and the ID token then carries the time of that sign-in (``auth_time``).
    """
    client = _client()
    _load_metadata(client)
    redirect_uri = external_url("sso.callback")
    extra = {"max_age": 0} if fresh else {}
    rv = client.create_authorization_url(redirect_uri, ui_locales=current_locale(), **extra)
    client.save_authorize_data(redirect_uri=redirect_uri, **rv)
    return rv["url"]


def finish_sign_on() -> tuple[User, bool, bool]:
    """Check the provider's answer and sign the person on: (account, provider vouched MFA,
    the person signed in at the provider just now).

    Authlib checks the state (and forgets it, so a callback URL works once), exchanges the
    code with the PKCE verifier and checks the ID token's signature with the provider's
    keys; consult's claim options add the issuer and our client id as the audience.
    """
    cfg = current_app.config
    client = _client()
    metadata = _load_metadata(client)
    state = request.args.get("state")
    if not state or client.framework.get_state_data(session, state) is None:
        # Authlib would say the same below; asked first so that this answer wins.
        raise _stale()
    # RFC 9207: a provider that names itself in its answer must name the configured
    # issuer (a code from another provider, the "mix-up" attack, is not exchanged here).
    answered_by = request.args.get("iss")
    if (
        answered_by is None
        and "error" not in request.args
        and metadata.get("authorization_response_iss_parameter_supported")
    ):
        answered_by = ""
    if answered_by is not None and answered_by.rstrip("/") != cfg["SSO_ISSUER"].rstrip("/"):
        log.warning("single sign-on refused: the answer names issuer %r", answered_by)
        client.framework.clear_state_data(session, state)
        raise _untrusted()
    options = {
        "iss": {"essential": True, "value": cfg["SSO_ISSUER"]},
        "aud": {"essential": True, "value": cfg["SSO_CLIENT_ID"]},
        "sub": {"essential": True},
    }
    try:
        token = client.authorize_access_token(
            claims_cls=_IdToken, claims_options=options, leeway=cfg["SSO_CLOCK_LEEWAY"]
        )
    except requests.RequestException as error:
        raise _unavailable(error) from error
    except MismatchingStateError as error:
        raise _stale() from error
    except OAuthError as error:
        log.info("single sign-on refused by the provider: %s", error)
        raise UserError(
            _("The city's sign-in service did not sign you in. Please try again."), status=400
        ) from error
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as error:
        log.warning("single sign-on refused: the ID token failed a check: %r", error)
        raise _untrusted() from error
    claims = token.get("userinfo")
    if not claims:  # an answer without an ID token would skip every check above
        raise _untrusted()
    try:
        user = sign_on_account(cfg["SSO_ISSUER"], dict(claims))
    except IntegrityError as error:  # two first sign-ons of one person at the same moment
        db.session.rollback()
        raise UserError(_("Please try again."), status=409) from error
    return user, vouches_for_mfa(claims), signed_in_just_now(claims)


def _stale() -> UserError:
    log.info("single sign-on refused: missing, used or foreign state")
    return UserError(
        _("This sign-in has expired or was already used. Please start it again."), status=400
    )


def _untrusted() -> UserError:
    return UserError(
        _("The answer of the city's sign-in service could not be verified. Please try again."),
        status=400,
    )


def signed_in_just_now(claims) -> bool:
    """Whether the provider's sign-in (``auth_time``) lies within consult's window for
    re-authentication: only then does the sign-on count as "confirmed it is you"."""
    from ..two_factor.services import REAUTH_SECONDS

    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
        return False
    age = clock.now().timestamp() - auth_time
    return -current_app.config["SSO_CLOCK_LEEWAY"] <= age <= REAUTH_SECONDS


def offers_reauthentication(user: User) -> bool:
    """Whether ``user`` can confirm it is them by signing on again at the provider."""
    if not current_app.config.get("SSO_ISSUER"):
        return False
    found = db.session.scalar(
        select(SsoIdentity.id).where(
            SsoIdentity.user_id == user.id,
            SsoIdentity.issuer == current_app.config["SSO_ISSUER"],
        )
    )
    return found is not None


def vouches_for_mfa(claims) -> bool:
    """Whether this sign-on counts as consult's second factor (README: the MFA rule)."""
    cfg = current_app.config
    if not cfg["SSO_MFA_REPLACES_TOTP"]:
        return False
    amr = claims.get("amr") or []
    amr = amr if isinstance(amr, list) else [amr]
    if set(map(str, amr)) & set(cfg["SSO_MFA_AMR"]):
        return True
    return bool(claims.get("acr")) and str(claims["acr"]) in cfg["SSO_MFA_ACR"]


# --- the account ------------------------------------------------------------------------


def sign_on_account(issuer: str, claims: dict) -> User:
    """Find, link or create the account of (issuer, sub), sync its roles; commits."""
    subject = str(claims["sub"])
    if not subject or len(subject) > 255 or len(issuer) > 255:  # OIDC Core: at most 255 ASCII
        raise _untrusted()
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )
    if identity is not None:
        user = db.session.get(User, identity.user_id)
    else:
        user = _link_or_create(claims)
        identity = SsoIdentity(user_id=user.id, issuer=issuer, subject=subject)
        db.session.add(identity)
    if not user.is_active:
        db.session.rollback()
        raise UserError(_("This account has been deleted."), status=403)
    sync_sso_roles(user, claims)
    identity.last_login_at = clock.now()
    db.session.commit()
    return user


def _vouched_email(claims: dict) -> tuple[str | None, bool]:
    """The claimed address (normalised) and whether the provider vouches for it."""
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw.strip():
        return None, False
    try:
        email = normalize_email(raw)
    except UserError:
        return None, False
    vouched = claims.get("email_verified") is True or current_app.config["SSO_TRUST_EMAIL"]
    return email, vouched


def _link_or_create(claims: dict) -> User:
    email, vouched = _vouched_email(claims)
    if email is None:
        raise UserError(
            _("The city's sign-in service did not tell us your e-mail address."), status=400
        )
    existing = find_user_by_email(email)
    if existing is not None:
        if not vouched:
            # Linking on an address the provider does not vouch for would let anyone who
            # can type an address at the provider take over that consult account.
            raise UserError(
                _(
                    "An account with this e-mail address exists already. Please log in with "
                    "your password, or ask the city to confirm your address in its directory."
                ),
                status=409,
            )
        record_action(None, "sso.account_link", "user", existing.id)
        return existing
    name, key = _free_pseudonym(claims, email)
    user = User(
        email=email,
        pseudonym=name,
        pseudonym_key=key,
        locale=current_locale(),
        email_verified_at=clock.now() if vouched else None,
        # Not asked: a work account rests on the employment, not on the person's consent
        # (the data download shows none rather than a consent nobody gave).
        privacy_consent_at=None,
    )
    db.session.add(user)
    db.session.flush()
    record_action(None, "sso.account_create", "user", user.id)
    return user


def _free_pseudonym(claims: dict, email: str) -> tuple[str, str]:
    """A public name from the name claim (else the address' local part), made unique."""
    candidates = [claims.get("name"), claims.get("preferred_username"), email.split("@")[0]]
    base = "staff"
    for raw in candidates:
        if not isinstance(raw, str):
            continue
        cleaned = "".join(c for c in raw if c.isalnum() or c in " .-_'")[: PSEUDONYM_MAX - 4]
        try:
            clean_pseudonym(cleaned)
        except UserError:
            continue
        base = cleaned
        break
    for suffix in range(1, 1000):
        name, key = clean_pseudonym(base if suffix == 1 else f"{base} {suffix}")
        if db.session.scalar(select(User.id).where(User.pseudonym_key == key)) is None:
            return name, key
    raise UserError(_("Please try again."), status=409)


def _claim_values(claims: dict) -> set[str]:
    value = claims
    for part in current_app.config["SSO_ROLE_CLAIM"].split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(v) for v in value}
    return set()


def sync_sso_roles(user: User, claims: dict) -> None:
    """Grant the mapped roles (source "sso"), revoke sso grants whose claim is gone; audited
    with no actor (the city's directory decided). Local grants stay as they are."""
    role_map = current_app.config["SSO_ROLE_MAP"]
    mapped = {role_map[value] for value in _claim_values(claims) if value in role_map}
    for grant in list(user.role_grants):
        if grant.source == "sso" and grant.role not in mapped:
            user.role_grants.remove(grant)
            record_action(None, "sso.role_revoke", "user", user.id, role=grant.role)
    for role in sorted(mapped - user.roles):
        user.role_grants.append(RoleGrant(role=role, source="sso"))
        record_action(None, "sso.role_grant", "user", user.id, role=role)
