"""The WSGI entry point for gunicorn and ``flask --app wsgi``."""

from consult import create_app
from consult.ops.logs import configure_logging

app = create_app()
# Here, not in create_app: the process's log handlers belong to the program that serves,
# not to every app a test or a script builds.
configure_logging(app)
