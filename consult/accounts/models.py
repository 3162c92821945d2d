"""Accounts, their roles, and the single-use record of consumed links."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db
from .second_factor import SECOND_FACTOR_ROLES

# "citizen" is granted when the e-mail address is verified; staff may revoke it.
ROLES = ("citizen", "moderator", "juror", "staff", "press")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased; NULL once the account is deleted, which frees the address.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    # Case- and width-folded pseudonym: "Anna" and "ANNA" cannot both exist.
    pseudonym_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    locale: Mapped[str] = mapped_column(String(5), default="de")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    privacy_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the login id: bumping it ends every session and remember-me cookie.
    session_version: Mapped[int] = mapped_column(default=1)
    # Notification mails that are not transactional can be switched off (profile or link).
    notify_comments: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Updates of lab projects that grew from ideas the citizen voted for or follows.
    notify_projects: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Voting opens / closes in 24 hours in a followed challenge (or one with an own idea);
    # an official answer on an idea one wrote, follows or voted for (consult.notifications).
    notify_voting_opens: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_voting_closes: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_answers: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The results of a challenge one follows or asked for on its page.
    notify_results: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Opt-in: one mail a week with all of the above instead of single mails.
    digest_weekly: Mapped[bool] = mapped_column(default=False, server_default=false())
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor (RFC 6238 TOTP, consult.two_factor): the base32 secret, kept from the
    # set-up page on and in force once a first code confirmed it (totp_enabled_at); the
    # last 30-second step accepted, so that a code (even one from the previous window)
    # works once only.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()

    role_grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
        lazy="selectin",
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def roles(self) -> set[str]:
        return {grant.role for grant in self.role_grants}

    # Set by the login manager on the account of a session that has not passed a second
    # factor: its staff-type roles then count for nothing anywhere — not only on the pages
    # behind check_role, but also where services and templates ask has_role (hidden ideas,
    # draft challenges, the staff menu). A plain attribute, not a column.
    second_factor_pending = False

    @property
    def uses_totp(self) -> bool:
        """TOTP is on: a secret that a first code confirmed (set-up may be unfinished)."""
        return bool(self.totp_secret and self.totp_enabled_at)

    def holds_role(self, role: str) -> bool:
        """The role is granted (citizens must also be verified), whatever this session
        has proven; for deciding whether a second factor is required."""
        if not self.is_active or role not in self.roles:
            return False
        return role != "citizen" or self.is_verified

    def has_role(self, role: str) -> bool:
        """The role is granted and may be used now."""
        if self.second_factor_pending and role in SECOND_FACTOR_ROLES:
            return False
        return self.holds_role(role)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(db.Model):
    __tablename__ = "role_grants"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # "local" (granted by staff in consult) or "sso" (mapped from the identity provider's
    # claims at login, and taken away at a later login when the claim is gone).
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])


class RecoveryCode(db.Model):
    """One of ten single-use codes for a lost authenticator; only a hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SsoIdentity(db.Model):
    """An account's identity at the city's OpenID provider: (issuer, subject) is the key,
    never the e-mail address, which the provider may reassign."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsedToken(db.Model):
    """A consumed e-mail link. The primary key makes a second use fail in the database."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
