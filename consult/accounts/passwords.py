"""Password policy and hashing (argon2id)."""

import unicodedata
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from ..i18n import _

MIN_LENGTH = 8
# Long passphrases are welcome; the bound only stops a hashing-cost denial of service.
MAX_LENGTH = 256


@cache
def _common_passwords() -> frozenset[str]:
    text = files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, *personal: str | None) -> str | None:
    """Why a password is not acceptable, in the user's language, or None when it is fine."""
    length = len(password)
    if length < MIN_LENGTH:
        return _("The password must have at least %(min)d characters.", min=MIN_LENGTH)
    if length > MAX_LENGTH:
        return _("The password may have at most %(max)d characters.", max=MAX_LENGTH)
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in _common_passwords() or len(set(folded)) < 3:
        return _("This password is too common. Please choose one that is harder to guess.")
    for value in personal:
        if value and folded == value.casefold():
            return _("The password must not be your e-mail address or pseudonym.")
    return None


def _hasher() -> PasswordHasher:
    # The test profile keeps the suite fast; production uses argon2's RFC 9106 low-memory profile.
    if current_app.config["ARGON2_PROFILE"] == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# Verified against when an e-mail address is unknown, so both cases take as long.
_DUMMY: dict[str, str] = {}


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-effort check: an unknown account costs as much time as a wrong password."""
    hasher = _hasher()
    if stored_hash is None:
        key = current_app.config["ARGON2_PROFILE"]
        if key not in _DUMMY:
            _DUMMY[key] = hasher.hash("not-a-real-password")
        _check(hasher, _DUMMY[key], password)
        return False
    return _check(hasher, stored_hash, password)


def _check(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)
