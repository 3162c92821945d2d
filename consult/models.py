"""Imports every model module, so the metadata (and Alembic) sees the whole schema."""

from .accounts.models import RecoveryCode, RoleGrant, SsoIdentity, UsedToken, User  # noqa: F401
from .answers.models import IdeaAnswer  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .challenges.models import Category, Challenge  # noqa: F401
from .districts import District  # noqa: F401
from .events.models import (  # noqa: F401
    Event,
    EventParticipant,
    EventRound,
    RoundBallot,
    RoundVote,
)
from .ideas.models import Comment, Idea, IdeaFollower, Report  # noqa: F401
from .jobs import Outbox  # noqa: F401
from .jury.models import (  # noqa: F401
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ResultSnapshot,
    ShortlistEntry,
)
from .media.models import Image  # noqa: F401
from .notifications.models import (  # noqa: F401
    ChallengeFollower,
    DigestItem,
    NotificationSent,
)
from .projects.models import (  # noqa: F401
    CoCreator,
    LabProject,
    Milestone,
    Partner,
    ProjectUpdate,
)
from .ratelimit import RateLimitCounter  # noqa: F401
from .results.models import (  # noqa: F401
    Announcement,
    AnnouncementHighlight,
    ResultChart,
    ResultsSubscription,
)
from .voting.models import Ballot, PaperVoteEntry, Vote  # noqa: F401
