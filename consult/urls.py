"""Absolute links for mails and feeds."""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """An absolute URL built from PUBLIC_URL, never from the request's Host header.

    Using the Host header would let an attacker plant their own domain in password-reset
    mails; workers have no request at all.
    """
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
