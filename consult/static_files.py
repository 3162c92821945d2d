"""Fingerprinted static URLs: ``url_for('static', filename=…)`` adds ``?v=<content hash>``.

A new release changes the address of every file whose content changed, so nginx (see
deploy/nginx) may let browsers keep a versioned address for a year without ever showing
a stale stylesheet after a deploy; an address without ``v`` is cached briefly and
revalidated. Flask serves both forms as they are.
"""

import hashlib
import os

from flask import Flask

VERSION_LENGTH = 12


def file_version(app: Flask, filename: str) -> str | None:
    """The first hex digits of the SHA-256 of a static file, or None when there is none.

    Cached per file; in debug mode per modification time, so an edited file gets a new
    address at once.
    """
    cache = app.extensions.setdefault("consult_static_versions", {})
    if not app.debug and (filename, 0) in cache:  # every page asks for a few: no file system
        return cache[(filename, 0)]
    root = os.path.realpath(app.static_folder)
    path = os.path.realpath(os.path.join(root, filename))
    if not path.startswith(root + os.sep):
        return None
    try:
        mtime = os.stat(path).st_mtime_ns if app.debug else 0
    except OSError:
        return None
    key = (filename, mtime)
    if key not in cache:
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return None
        cache[key] = digest[:VERSION_LENGTH]
    return cache[key]


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = file_version(app, values["filename"])
            if version:
                values["v"] = version
