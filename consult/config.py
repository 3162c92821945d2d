"""Configuration: defaults here, then ``instance/config.py``, then ``CONSULT_*`` variables.

The defaults are the safe production values; the development run command writes an
``instance/config.py`` that relaxes what only makes sense on a laptop (plain-HTTP cookies).
"""

import os
from datetime import timedelta


class Defaults:
    # Must come from instance/config.py or CONSULT_SECRET_KEY; create_app refuses to start without.
    SECRET_KEY = None
    # None means "SQLite file in the instance folder" (filled in by create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Database connections each process keeps open (PostgreSQL): one per thread, or the
    # threads beyond open and close a connection of their own for every request under
    # load. gunicorn.conf.py sets it to gunicorn's --threads; more are opened, and closed
    # again, when a request needs them (SQLAlchemy's max_overflow, 10).
    DB_POOL_SIZE = 8
    # None: jobs run inline after the commit; set it to use RQ workers.
    REDIS_URL = None
    RQ_QUEUE = "consult"
    # The visitors' page cache (README, Operations): None chooses Redis when REDIS_URL is
    # set, in-process memory under the single-process `python3 -m consult run`, else off;
    # "redis", "memory" or "off" force a choice.
    PAGE_CACHE = None

    # Operations (README, Deployment, Operations). "json": one JSON line per log record
    # and per request on stderr; "plain": Python's usual text lines.
    LOG_FORMAT = "json"
    # /metrics answers only requests with "Authorization: Bearer <METRICS_TOKEN>"; None: 404.
    METRICS_TOKEN = None

    # Public base URL, used for links in mails sent by workers outside any request.
    # None: DEV_PUBLIC_URL, else http://127.0.0.1:5000 (filled in by finalize).
    PUBLIC_URL = None
    # The address `python3 -m consult run` serves on (from --host/--port); it sets this,
    # not PUBLIC_URL, so that a configured PUBLIC_URL still wins over it.
    DEV_PUBLIC_URL = None
    CITY_NAME = "Dortmund"
    # Contact data for the imprint, privacy policy and accessibility statement.
    OPERATOR_NAME = "Stadt Dortmund"
    OPERATOR_ADDRESS = "Friedensplatz 1, 44135 Dortmund"
    OPERATOR_REPRESENTATIVE = "Der Oberbürgermeister"
    CONTACT_EMAIL = "beteiligung@example.org"
    CONTACT_PHONE = "+49 231 0000000"
    DATA_PROTECTION_OFFICER_EMAIL = "datenschutz@example.org"
    ACCESSIBILITY_CONTACT_EMAIL = "barrierefreiheit@example.org"
    ENFORCEMENT_BODY = "Ombudsstelle für barrierefreie Informationstechnik des Landes NRW"
    # Licence of the open data exports; CONSULT_OPEN_DATA_LICENCE='{"id": …, "name": …, "url": …}'.
    OPEN_DATA_LICENCE = {
        "id": "dl-de/by-2-0",
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": "https://www.govdata.de/dl-de/by-2-0",
    }

    # Inhabitants per district (name -> number), for the staff dashboard's share of
    # participants per district; a district's own ``population`` column wins when set
    # (``flask districts population`` copies these figures into it). Default: Dortmund's
    # twelve Stadtbezirke, approximate, Stadt Dortmund statistics (around 2023).
    DISTRICT_POPULATION = {
        "Innenstadt-West": 53_000,
        "Innenstadt-Nord": 60_000,
        "Innenstadt-Ost": 57_000,
        "Eving": 39_000,
        "Scharnhorst": 46_000,
        "Brackel": 57_000,
        "Aplerbeck": 56_000,
        "Hörde": 57_000,
        "Hombruch": 58_000,
        "Lütgendortmund": 48_000,
        "Huckarde": 38_000,
        "Mengede": 40_000,
    }

    # Mail: SMTP when MAIL_SERVER is set, else files under MAIL_DIR (instance/mail).
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "consult <noreply@example.org>"
    MAIL_DIR = None

    # Security.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "consult_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    PROXY_COUNT = 0
    # argon2 parameters: RFC 9106 low-memory in production; tests use "cheapest" to stay fast.
    ARGON2_PROFILE = "rfc9106-low-memory"

    # Login throttling: failures per e-mail address and per client address in a window.
    LOGIN_FAILURES_PER_ACCOUNT = 10
    LOGIN_FAILURES_PER_ADDRESS = 100
    LOGIN_THROTTLE_WINDOW = 15 * 60

    # Link lifetimes in seconds.
    VERIFY_LINK_MAX_AGE = 48 * 3600
    RESET_LINK_MAX_AGE = 3600

    # Single sign-on for staff through the city's OpenID Connect provider (consult.sso,
    # README "Single sign-on"). No issuer: no sign-on routes and no button.
    SSO_ISSUER = None
    SSO_CLIENT_ID = None
    SSO_CLIENT_SECRET = None
    SSO_SCOPES = "openid email profile"
    # The ID token claim with the person's groups or roles; a dotted path reaches into an
    # object (Keycloak: "realm_access.roles").
    SSO_ROLE_CLAIM = "roles"
    # Claim value -> consult role: {"consult-staff": "staff"} or "consult-staff=staff,x=press".
    SSO_ROLE_MAP = {}
    # When True, a sign-on whose ID token shows multi-factor authentication (an amr value
    # of SSO_MFA_AMR or an acr of SSO_MFA_ACR) counts as the second factor, instead of TOTP.
    SSO_MFA_REPLACES_TOTP = False
    SSO_MFA_AMR = ["mfa", "otp", "hwk", "sc"]
    SSO_MFA_ACR = []
    # Treat the provider's e-mail address as verified even without "email_verified": true
    # (Entra ID sends no such claim; the city's own directory assigns the addresses).
    SSO_TRUST_EMAIL = False
    # Seconds to wait for the provider (discovery, keys, token); tolerated clock skew.
    SSO_TIMEOUT = 5
    SSO_CLOCK_LEEWAY = 60

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "translations"
    )


def finalize(app):
    """Fill in defaults that depend on the instance folder and refuse unsafe setups."""
    cfg = app.config
    if not cfg.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: put it in instance/config.py or CONSULT_SECRET_KEY "
            "(`python3 -m consult run` writes a development one)."
        )
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "consult.sqlite"
        )
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    # Heroku-style URLs say postgres://; we use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len(prefix) :]
    licence = cfg.get("OPEN_DATA_LICENCE")
    if not (isinstance(licence, dict) and licence.get("name") and licence.get("url")):
        # Refuse at start rather than fail every download: the licence is published with them.
        raise RuntimeError(
            "OPEN_DATA_LICENCE must be a dict with at least name and url; as an environment "
            'variable, JSON: CONSULT_OPEN_DATA_LICENCE=\'{"id": "…", "name": "…", "url": "…"}\''
        )
    _finalize_sso(cfg)
    if not cfg.get("PUBLIC_URL"):
        cfg["PUBLIC_URL"] = cfg.get("DEV_PUBLIC_URL") or "http://127.0.0.1:5000"
    if not cfg.get("MAIL_DIR"):
        cfg["MAIL_DIR"] = os.path.join(app.instance_path, "mail")
    # SQL parameters (addresses, password hashes) never go into a database error's text,
    # which error handlers log.
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True, **cfg["SQLALCHEMY_ENGINE_OPTIONS"]}
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has no pool to pre-ping and is used by one process at a time.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v for k, v in cfg["SQLALCHEMY_ENGINE_OPTIONS"].items() if k != "pool_pre_ping"
        }
    else:
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": int(cfg["DB_POOL_SIZE"]),
            **cfg["SQLALCHEMY_ENGINE_OPTIONS"],
        }


def _words(value) -> list[str]:
    """A list setting given as a list or as text separated by commas or spaces."""
    if isinstance(value, str):
        return [word for word in value.replace(",", " ").split() if word]
    return [str(word) for word in value or ()]


def _finalize_sso(cfg) -> None:
    """Normalise the single sign-on settings; refuse an incomplete or unknown mapping."""
    from .accounts.models import ROLES

    role_map = cfg.get("SSO_ROLE_MAP") or {}
    if isinstance(role_map, str):
        pairs = [item.partition("=") for item in role_map.split(",") if item.strip()]
        role_map = {name.strip(): role.strip() for name, _sep, role in pairs}
    unknown = sorted(set(role_map.values()) - set(ROLES))
    if unknown:
        raise RuntimeError(
            f"SSO_ROLE_MAP maps to unknown roles {unknown}; the roles are {', '.join(ROLES)}"
        )
    cfg["SSO_ROLE_MAP"] = dict(role_map)
    cfg["SSO_MFA_AMR"] = _words(cfg.get("SSO_MFA_AMR"))
    cfg["SSO_MFA_ACR"] = _words(cfg.get("SSO_MFA_ACR"))
    if cfg.get("SSO_ISSUER"):
        missing = [n for n in ("SSO_CLIENT_ID", "SSO_CLIENT_SECRET") if not cfg.get(n)]
        if missing:
            raise RuntimeError(f"SSO_ISSUER is set, so {' and '.join(missing)} must be set too")
