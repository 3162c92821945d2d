"""Paper votes a workshop sheet at a time: one form, one transaction, one audit entry.

Hostile sheets are refused at the field that is wrong, with nothing stored; corrections
stay single entries (tests/voting/test_paper_votes.py).
"""

import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, ngettext
from markupsafe import escape
from sqlalchemy import func, select
from voting_support import challenge_with_ideas, make_idea, says, tr

from consult.audit.models import AuditEntry
from consult.challenges.models import Challenge
from consult.clock import now, travel
from consult.errors import FieldErrors, UserError
from consult.extensions import db
from consult.jury.models import JurorAssignment
from consult.voting import services
from consult.voting.models import PaperVoteEntry

NUMBER = "Please enter a whole number from 0 to %(max)d, or leave the field empty."
NOT_PUBLISHED = "Paper votes can only be entered for published ideas."
MISMATCH = "This sheet does not match the ideas of this challenge."
NOTHING = "Please enter the paper votes of at least one idea."
DAY = "Please enter the day of the event, from the start of the challenge to today."
JUROR_SUBMITTED = (
    "A juror has already submitted scores for this challenge, so paper votes can no longer "
    "be entered or corrected."
)


def state() -> dict:
    db.session.expire_all()
    return {
        "entries": sorted(
            db.session.execute(select(PaperVoteEntry.idea_id, PaperVoteEntry.count)).all()
        ),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
    }


@pytest.fixture
def staff(make_user, login):
    user = make_user(roles=("staff",), pseudonym="Frau Amt")
    login(user)
    return user


def url(challenge, tail: str = "") -> str:
    return f"/staff/challenges/{challenge.id}/paper-votes{tail}"


def today() -> str:
    return services.paper_sheet_today().isoformat()


def sheet(ideas, counts, event="Stadtteilfest Hörde", day=None, **extra) -> dict:
    data = {"event_name": event, "event_date": day or today(), **extra}
    data.update({f"count-{idea.id}": value for idea, value in zip(ideas, counts, strict=True)})
    return data


def error_at(page: str, field: str) -> str:
    """The message shown at a field (its aria-describedby error), or ""."""
    found = re.search(rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


# --- the service -------------------------------------------------------------------------


def test_a_sheet_enters_every_idea_at_once_with_one_audit_entry(app, make_user):
    challenge, (a, b, c) = challenge_with_ideas(3)
    staff = make_user(roles=("staff",))
    day = services.paper_sheet_today()
    entries = services.enter_paper_vote_sheet(
        staff, challenge, " Stadtteilfest  Hörde ", day.isoformat(),
        {str(a.id): "12", str(b.id): "", c.id: 3}, "Stand 3",
    )  # fmt: skip
    assert [(e.idea_id, e.count) for e in entries] == [(a.id, 12), (c.id, 3)]
    assert {(e.event_name, e.event_date, e.note, e.entered_by_id) for e in entries} == {
        ("Stadtteilfest Hörde", day, "Stand 3", staff.id)
    }
    assert services.paper_vote_totals(challenge) == {a.id: 12, c.id: 3}
    audits = db.session.scalars(select(AuditEntry)).all()
    assert len(audits) == 1
    audit = audits[0]
    assert (audit.action, audit.object_type, audit.object_id, audit.actor_id) == (
        "votes.paper_sheet", "challenge", challenge.id, staff.id,
    )  # fmt: skip
    assert audit.details == {
        "event": "Stadtteilfest Hörde",
        "date": day.isoformat(),
        "counts": {str(a.id): 12, str(c.id): 3},
        "total": 15,
        "entries": [e.id for e in entries],
    }


@pytest.mark.parametrize(
    "raw",
    ["-1", "zwölf", "1.5", "1e3", "١٢", "1_000", "+5", " 5 5", "99999999999999999999",
     str(services.PAPER_MAX + 1), "0x10", -3, True],
)  # fmt: skip
def test_a_bad_count_refuses_the_whole_sheet_at_its_field(app, make_user, raw):
    challenge, (good, bad) = challenge_with_ideas(2)
    staff = make_user(roles=("staff",))
    before = state()
    with force_locale("en"), pytest.raises(FieldErrors) as caught:
        services.enter_paper_vote_sheet(
            staff, challenge, "Markt", today(), {good.id: "7", bad.id: raw}
        )
    assert caught.value.status == 400
    assert list(caught.value.errors) == [f"count-{bad.id}"]
    assert caught.value.errors[f"count-{bad.id}"] == tr(NUMBER, "en", max=services.PAPER_MAX)
    assert state() == before


def test_every_refusal_is_reported_at_once(app, make_user):
    challenge, (one, two) = challenge_with_ideas(2)
    staff = make_user(roles=("staff",))
    future = (services.paper_sheet_today() + timedelta(days=1)).isoformat()
    with pytest.raises(FieldErrors) as caught:
        services.enter_paper_vote_sheet(
            staff, challenge, "", future, {one.id: "-2", two.id: "x"}, "n" * 1001
        )
    assert set(caught.value.errors) == {
        "event_name", "event_date", "note", f"count-{one.id}", f"count-{two.id}",
    }  # fmt: skip
    assert state() == {"entries": [], "audit": 0}


def test_the_day_is_the_berlin_day_and_within_the_challenge(app, make_user):
    challenge, (idea,) = challenge_with_ideas(1)
    staff = make_user(roles=("staff",))
    # 23:30 UTC on 31 December is already 1 January in Berlin: "today" is the Berlin day.
    moment = now().replace(month=12, day=31, hour=23, minute=30)
    with travel(moment - now()):
        assert services.paper_sheet_today() == date(moment.year + 1, 1, 1)
    before_start = challenge.submission_opens_at.date() - timedelta(days=2)
    for day in (before_start.isoformat(), "2026-02-30", "31.12.2026", "", None, "2026-1-1"):
        with pytest.raises(FieldErrors) as caught:
            services.enter_paper_vote_sheet(staff, challenge, "Markt", day, {idea.id: "1"})
        assert list(caught.value.errors) == ["event_date"], day
    assert state() == {"entries": [], "audit": 0}


def test_an_empty_sheet_is_refused(app, make_user):
    challenge, (one, two) = challenge_with_ideas(2)
    staff = make_user(roles=("staff",))
    for counts in ({one.id: "", two.id: "0"}, {}):
        with pytest.raises(FieldErrors) as caught:
            services.enter_paper_vote_sheet(staff, challenge, "Markt", today(), counts)
        assert caught.value.errors == {"form": tr(NOTHING)}
    assert state() == {"entries": [], "audit": 0}


@pytest.mark.parametrize("status", ["hidden", "withdrawn", "draft"])
def test_an_idea_that_is_not_published_is_refused_with_409(app, make_user, status):
    challenge, (good,) = challenge_with_ideas(1)
    other = make_idea(challenge, status=status)
    staff = make_user(roles=("staff",))
    with pytest.raises(FieldErrors) as caught:
        services.enter_paper_vote_sheet(
            staff, challenge, "Markt", today(), {good.id: "4", other.id: "2"}
        )
    assert caught.value.status == 409
    assert caught.value.errors == {f"count-{other.id}": tr(NOT_PUBLISHED)}
    assert state() == {"entries": [], "audit": 0}
    # Left empty, it is no refusal: the sheet was printed before the idea was hidden.
    services.enter_paper_vote_sheet(
        staff, challenge, "Markt", today(), {good.id: "4", other.id: ""}
    )
    assert state()["entries"] == [(good.id, 4)]


def test_ideas_of_another_challenge_or_no_idea_are_refused(app, make_user):
    challenge, (good,) = challenge_with_ideas(1)
    _elsewhere, (foreign,) = challenge_with_ideas(1)
    staff = make_user(roles=("staff",))
    for key in (foreign.id, "99999999", "abc", "9" * 12, "-1"):
        with pytest.raises(FieldErrors) as caught:
            services.enter_paper_vote_sheet(
                staff, challenge, "Markt", today(), {good.id: "4", key: "2"}
            )
        assert caught.value.status == 400
        assert caught.value.errors == {"form": tr(MISMATCH)}, key
    too_many = {str(i): "" for i in range(services.SHEET_IDEAS_MAX + 1)}
    with pytest.raises(UserError):
        services.enter_paper_vote_sheet(staff, challenge, "Markt", today(), too_many)
    assert state() == {"entries": [], "audit": 0}


def test_no_sheet_once_a_juror_has_submitted(app, make_user):
    challenge, (idea,) = challenge_with_ideas(1)
    staff = make_user(roles=("staff",))
    juror = make_user(roles=("juror",))
    db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=juror.id, submitted_at=now()))
    db.session.commit()
    with force_locale("en"), pytest.raises(UserError) as caught:
        services.enter_paper_vote_sheet(staff, challenge, "Markt", today(), {idea.id: "3"})
    assert caught.value.status == 409
    assert caught.value.message == tr(JUROR_SUBMITTED, "en")
    assert state() == {"entries": [], "audit": 0}


def test_no_sheet_once_the_results_are_out(app, make_user):
    challenge, (idea,) = challenge_with_ideas(1)
    staff = make_user(roles=("staff",))
    db.session.get(Challenge, challenge.id).results_at = now() - timedelta(hours=1)
    db.session.get(Challenge, challenge.id).voting_closes_at = now() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(UserError) as caught:
        services.enter_paper_vote_sheet(staff, challenge, "Markt", today(), {idea.id: "3"})
    assert caught.value.status == 409
    assert state() == {"entries": [], "audit": 0}


# --- the page ----------------------------------------------------------------------------


def test_the_challenge_staff_page_links_to_paper_votes(client, staff):
    challenge, _ideas = challenge_with_ideas(1)
    page = client.get(f"/staff/challenges/{challenge.id}/edit").get_data(as_text=True)
    assert f'href="{url(challenge)}"' in page


def test_one_form_enters_the_whole_sheet(client, staff):
    challenge, ideas = challenge_with_ideas(3)
    page = client.get(url(challenge)).get_data(as_text=True)
    # One sheet form: the event is typed once, a number field per idea, today's date preset.
    assert page.count(f'action="{url(challenge, "/sheet")}"') == 1
    assert page.count('name="event_name"') == 2  # the sheet and the correction form
    assert all(f'name="count-{idea.id}"' in page for idea in ideas)
    assert f'name="event_date" type="date" required value="{today()}"' in page

    response = client.post_form(url(challenge, "/sheet"), sheet(ideas, ["12", "", "3"]))
    assert response.status_code == 302
    page = client.get(url(challenge)).get_data(as_text=True)
    with force_locale("de"):
        entered = ngettext(
            "The sheet of “%(event)s” has been entered: %(num)d paper vote.",
            "The sheet of “%(event)s” has been entered: %(num)d paper votes.",
            15, event="Stadtteilfest Hörde",
        )  # fmt: skip
    assert str(escape(entered)) in page
    assert "<td>0</td><td>12</td><td>12</td>" in page
    assert f'<time datetime="{today()}">' in page
    assert state() == {"entries": [(ideas[0].id, 12), (ideas[2].id, 3)], "audit": 1}


@pytest.mark.parametrize(
    ("value", "locale"), [("-4", "de"), ("zwölf", "en"), ("1e9", "de"), ("١٢", "en")]
)
def test_a_hostile_sheet_shows_the_message_at_the_field_and_keeps_the_typing(
    client, staff, value, locale
):
    challenge, (good, bad) = challenge_with_ideas(2)
    staff.locale = locale  # pages speak the account's language
    db.session.commit()
    before = state()
    response = client.post_form(url(challenge, "/sheet"), sheet([good, bad], ["7", value]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert error_at(page, f"count-{bad.id}") == says(NUMBER, locale, max=services.PAPER_MAX)
    assert f'id="count-{bad.id}" name="count-{bad.id}"' in page
    assert f'aria-invalid="true" aria-describedby="count-{bad.id}-error"' in page
    assert 'value="7"' in page and 'value="Stadtteilfest Hörde"' in page
    assert state() == before


def test_a_hidden_idea_on_the_sheet_gets_409_at_its_field(client, staff):
    challenge, (good,) = challenge_with_ideas(1)
    hidden = make_idea(challenge, status="published")
    page = client.get(url(challenge)).get_data(as_text=True)
    assert f'name="count-{hidden.id}"' in page
    hidden.status = "hidden"  # hidden by a moderator while the sheet was being typed
    db.session.commit()
    response = client.post_form(url(challenge, "/sheet"), sheet([good, hidden], ["1", "2"]))
    assert response.status_code == 409
    assert state() == {"entries": [], "audit": 0}
    # The hidden idea's row is gone from the table, so its message is in the summary.
    assert says(NOT_PUBLISHED) in response.get_data(as_text=True)


def test_other_challenges_idea_and_doubled_fields_change_nothing(client, staff):
    challenge, (good,) = challenge_with_ideas(1)
    _elsewhere, (foreign,) = challenge_with_ideas(1)
    response = client.post_form(url(challenge, "/sheet"), sheet([good, foreign], ["1", "2"]))
    assert response.status_code == 400
    assert says(MISMATCH) in response.get_data(as_text=True)
    # The same idea twice: the count nobody can mean is refused, not summed or overwritten.
    data = sheet([good], ["1"])
    data[f"count-{good.id}"] = ["1", "5"]
    response = client.post_form(url(challenge, "/sheet"), data)
    assert response.status_code == 400
    assert (
        client.post_form(
            url(challenge, "/sheet"),
            sheet(
                [good],
                [
                    "",
                ],
            ),
        ).status_code
        == 400
    )
    assert client.post_form("/staff/challenges/99999999/paper-votes/sheet", {}).status_code == 404
    assert state() == {"entries": [], "audit": 0}


def test_sheet_is_refused_with_the_lock_once_a_juror_submitted(client, staff, make_user):
    challenge, (idea,) = challenge_with_ideas(1)
    juror = make_user(roles=("juror",))
    db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=juror.id, submitted_at=now()))
    db.session.commit()
    response = client.post_form(url(challenge, "/sheet"), sheet([idea], ["3"]))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert says(JUROR_SUBMITTED) in page and 'name="count-' not in page
    assert state() == {"entries": [], "audit": 0}


def test_sheet_needs_staff_and_csrf(app, client, make_user, login):
    challenge, (idea,) = challenge_with_ideas(1)
    assert app.test_client().post(url(challenge, "/sheet")).status_code in (302, 400)
    login(make_user(roles=("citizen",)))
    assert client.post_form(url(challenge, "/sheet"), sheet([idea], ["3"])).status_code == 403
    login(make_user(roles=("staff",)))
    response = client.post(url(challenge, "/sheet"), data=sheet([idea], ["3"]))
    assert response.status_code == 400
    assert state() == {"entries": [], "audit": 0}


def test_a_sheet_can_be_corrected_by_a_single_entry(client, staff):
    challenge, (idea, other) = challenge_with_ideas(2)
    client.post_form(url(challenge, "/sheet"), sheet([idea, other], ["12", "4"]))
    response = client.post_form(
        url(challenge), {"idea": idea.id, "count": "-10", "event_name": "Stadtteilfest Hörde"}
    )
    assert response.status_code == 302
    assert services.paper_vote_totals(challenge) == {idea.id: 2, other.id: 4}
    response = client.post_form(
        url(challenge), {"idea": idea.id, "count": "-3", "event_name": "Stadtteilfest Hörde"}
    )
    assert response.status_code == 400  # not below zero
    page = response.get_data(as_text=True)
    assert error_at(page, "correction-count") == says(
        "A correction cannot take the paper votes below zero."
    )
    assert services.paper_vote_totals(challenge) == {idea.id: 2, other.id: 4}


def test_table_headers_keep_their_words_whole(client, staff):
    """The body wraps anywhere (long idea titles); the paper-vote headers must not."""
    challenge, _ideas = challenge_with_ideas(1)
    assert "/static/css/staff.css" in client.get(url(challenge)).get_data(as_text=True)
    css = client.get("/static/css/staff.css").get_data(as_text=True)
    rule = re.search(r"\.paper-votes th, \.paper-entries th[^{]*\{([^}]*)\}", css)
    assert rule is not None
    assert "overflow-wrap: normal" in rule.group(1) and "word-break: normal" in rule.group(1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_name", "x" * 121),  # one too many: refused, not cut to fit
        ("event_name", "Markt\u202e"),
        ("event_name", "   "),
        ("event_date", "2026-12-031"),
        ("event_date", "morgen"),
        ("note", "n" * 1001),
    ],
)
def test_a_hostile_event_date_or_note_is_refused_at_its_field(client, staff, field, value):
    challenge, (idea,) = challenge_with_ideas(1)
    data = sheet([idea], ["5"], **{field: value})
    response = client.post_form(url(challenge, "/sheet"), data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert error_at(page, field), field
    assert f'<a href="#{field}">' in page
    assert state() == {"entries": [], "audit": 0}
