"""Single sign-on for staff through the city's OpenID Connect provider (Keycloak, AD FS,
Entra ID): README "Single sign-on (OpenID Connect)".

Nothing is registered unless SSO_ISSUER is set: no routes, no button, no Authlib client.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    if not app.config.get("SSO_ISSUER"):
        return
    from authlib.integrations.flask_client import OAuth

    from .views import bp

    cfg = app.config
    # One Authlib registry per app (tests build many apps with different providers); the
    # client caches the discovery document and the keys for the life of the process and
    # fetches the keys again when a token names a key it does not know (key rollover).
    oauth = OAuth(app)
    oauth.register(
        "city",
        client_id=cfg["SSO_CLIENT_ID"],
        client_secret=cfg["SSO_CLIENT_SECRET"],
        server_metadata_url=cfg["SSO_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": cfg["SSO_SCOPES"],
            "code_challenge_method": "S256",
            # A hanging provider must not hold a worker: every call gets a deadline.
            "default_timeout": cfg["SSO_TIMEOUT"],
        },
    )
    app.extensions["consult_sso"] = oauth
    app.register_blueprint(bp)
