"""Jury results pages (registered on ``views.bp``)."""

from .views import bp  # noqa: F401
