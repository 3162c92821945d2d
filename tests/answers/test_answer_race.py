"""Two staff answering one idea at the same moment (PostgreSQL: SQLite serialises every
writer, so there is nothing to race there): one answer wins, the other is told, and
nobody gets two mails."""

import pytest
from answers_support import answer_data, answers_world, count
from setup_support import run_in_contexts

from consult.accounts.models import User
from consult.answers import services
from consult.answers.models import IdeaAnswer
from consult.challenges.models import Challenge
from consult.extensions import db
from consult.notifications.models import NotificationSent

pytestmark = pytest.mark.postgres_only


def run_together(app, jobs: list) -> list:
    """Each job in its own thread and app context, released together; returns what it
    returned or the refusal's status per job."""
    return run_in_contexts(app, jobs)


def test_two_first_answers_at_once_store_one_and_mail_once(app, make_user, mailbox):
    world = answers_world(make_user)
    second = make_user(roles=("citizen", "staff")).id
    ids = (world.challenge.id, world.ideas[0].id)

    def answer(staff_id: int, state: str):
        def job():
            staff, challenge = db.session.get(User, staff_id), db.session.get(Challenge, ids[0])
            return services.answer_idea(staff, challenge, ids[1], answer_data(state=state))

        return job

    outcomes = run_together(
        app, [answer(world.staff.id, "under_review"), answer(second, "under_review")]
    )
    assert sorted(outcomes, key=str) == [409, "new"]
    assert count(IdeaAnswer) == 1
    assert count(NotificationSent) == 1
    assert len(mailbox.to(world.author.email)) == 1
