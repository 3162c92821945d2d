"""consult: idea challenges for a city, in German and English."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from . import config

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then CONSULT_* variables.

    ``overrides`` come last (tests). Migrations never run here: see the Procfile.
    """
    # Imported here so that ``python3 -m consult`` can bootstrap with nothing but Python.
    from flask import Flask

    # CONSULT_INSTANCE_PATH lets a deployment keep config, SQLite and mail outside the code.
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("CONSULT_INSTANCE_PATH") or None,
    )
    app.config.from_object(config.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CONSULT")
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    config.finalize(app)

    from . import (  # noqa: F401
        cli,
        errors,
        i18n,
        jobs,
        models,
        ops,
        page_cache,
        security,
        static_files,
    )
    from .extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    errors.init_app(app)
    ops.init_app(app)
    jobs.init_app(app)
    cli.init_app(app)
    page_cache.init_app(app)
    from .permissions import ROLE_LABELS, participation_refusal

    app.jinja_env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    app.jinja_env.globals["participation_refusal"] = participation_refusal

    from .accounts.views import bp as accounts_bp
    from .admin.views import bp as admin_bp
    from .answers.views import bp as answers_bp
    from .challenges.views import bp as challenges_bp
    from .dashboard.views import bp as dashboard_bp
    from .events.views import bp as events_bp
    from .ideas.views import bp as ideas_bp
    from .jury.views import bp as jury_bp
    from .media.views import bp as media_bp
    from .merging.views import bp as merging_bp
    from .moderation.views import bp as moderation_bp
    from .notifications.views import bp as notifications_bp
    from .ops.views import bp as ops_bp
    from .pages.views import bp as pages_bp
    from .projects.views import bp as projects_bp
    from .results.views import bp as results_bp
    from .similar.views import bp as similar_bp
    from .two_factor.views import bp as two_factor_bp
    from .voting.views import bp as voting_bp

    for blueprint in (
        pages_bp,
        accounts_bp,
        admin_bp,
        challenges_bp,
        ideas_bp,
        moderation_bp,
        media_bp,
        voting_bp,
        jury_bp,
        projects_bp,
        results_bp,
        events_bp,
        answers_bp,
        merging_bp,
        similar_bp,
        two_factor_bp,
        notifications_bp,
        dashboard_bp,
        ops_bp,
    ):
        app.register_blueprint(blueprint)
    from . import sso

    sso.init_app(app)  # only when SSO_ISSUER is set
    return app
