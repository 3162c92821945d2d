"""Pages of live events (see views.py); registered on ``views.bp``."""

from .views import bp  # noqa: F401
