"""The audit log: every role change says who did what to which account, and when."""

import re
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select
from testdata import PASSWORD

from consult import clock
from consult.accounts import services
from consult.audit.models import AuditEntry
from consult.audit.services import PAGE_SIZE, list_actions, record_action
from consult.extensions import db


def says(text: str, locale: str = "de", **kwargs) -> str:
    with force_locale(locale):
        return str(escape(gettext(text, **kwargs)))


def rows(page: str) -> list[str]:
    """The entries of the audit page, newest first, as HTML."""
    body = page.split('<ol class="audit-log">')[1].split("</ol>")[0]
    return re.findall(r"<li>(.*?)</li>", body, re.S)


def test_a_role_change_appears_in_the_audit_log(client, make_user, login):
    staff = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    user = make_user(pseudonym="Anna", roles=("citizen",))
    login(staff)
    before = clock.now()
    client.post_form(f"/staff/users/{user.id}/roles", {"role": "juror", "change": "grant"})
    client.post_form(
        f"/staff/users/{user.id}/roles", {"role": "citizen", "change": "revoke", "confirm": "1"}
    )
    after = clock.now()

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(entries) == 2
    for entry in entries:
        assert entry.actor_id == staff.id  # who
        assert (entry.object_type, entry.object_id) == ("user", user.id)  # which object
        assert before - timedelta(seconds=1) <= entry.created_at <= after + timedelta(seconds=1)
    assert [(e.action, e.details) for e in entries] == [  # what
        ("role.grant", {"role": "juror"}),
        ("role.revoke", {"role": "citizen"}),
    ]

    response = client.get("/staff/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    newest, oldest = rows(page)
    # One sentence each, with links to both accounts (the staff page finds them by name).
    chefin = '<a href="/staff/users?q=Chefin">Chefin</a>'
    anna = '<a href="/staff/users?q=Anna">Anna</a>'
    assert says(
        "%(actor)s took the role %(role)s away from %(user)s.",
        actor="\x00", user="\x01", role=says("Citizen"),
    ).replace("\x00", chefin).replace("\x01", anna) in newest  # fmt: skip
    assert says(
        "%(actor)s gave %(user)s the role %(role)s.",
        actor="\x00", user="\x01", role=says("Juror"),
    ).replace("\x00", chefin).replace("\x01", anna) in oldest  # fmt: skip
    # When: a machine-readable time and one for people, in Berlin time.
    stamp = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', newest)
    assert abs(datetime.fromisoformat(stamp.group(1)) - entries[1].created_at) < timedelta(
        seconds=1
    )
    assert stamp.group(2).strip()


def test_the_audit_log_speaks_the_staff_members_language(client, make_user, login):
    staff = make_user(roles=("citizen", "staff"), locale="en")
    user = make_user()
    login(staff)
    client.post_form(f"/staff/users/{user.id}/roles", {"role": "press", "change": "grant"})
    page = client.get("/staff/audit").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert " gave " in rows(page)[0] and says("Press", "en") in rows(page)[0]


def test_the_audit_log_can_be_filtered_by_action(client, make_user, login):
    staff = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    user = make_user()
    login(staff)
    client.post_form(f"/staff/users/{user.id}/roles", {"role": "juror", "change": "grant"})
    client.post_form(
        f"/staff/users/{user.id}/roles", {"role": "juror", "change": "revoke", "confirm": "1"}
    )
    page = client.get("/staff/audit?action=role.grant").get_data(as_text=True)
    only_grants = rows(page)
    assert len(only_grants) == 1 and says("Juror") in only_grants[0]
    assert f'<option value="role.grant" selected>{says("Role granted")}</option>' in page
    # An unknown action code shows everything rather than failing.
    for odd in ("nonsense", "<script>", "role.grant' OR '1'='1"):
        response = client.get("/staff/audit", query_string={"action": odd})
        assert response.status_code == 200
        assert len(rows(response.get_data(as_text=True))) == 2
        assert "<script>" not in response.get_data(as_text=True).split("<main")[1]


def test_command_line_entries_are_shown_as_system(app, client, make_user, login):
    app.test_cli_runner().invoke(
        args=["users", "create-admin", "chefin@stadt.example", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    login(make_user(roles=("citizen", "staff")))
    entry = rows(client.get("/staff/audit").get_data(as_text=True))[0]
    assert (
        says(
            "A staff account for %(user)s was created from the command line.", user="\x00"
        ).replace("\x00", '<a href="/staff/users?q=chefin">chefin</a>')
        in entry
    )


def test_entries_of_a_deleted_staff_account_remain(client, make_user, login):
    former = make_user(pseudonym="Ehemalig", roles=("citizen", "staff"))
    user = make_user()
    services.grant_role(former, user, "juror")
    services.delete_account(db.session.get(type(former), former.id), PASSWORD)
    login(make_user(roles=("citizen", "staff")))
    entry = rows(client.get("/staff/audit").get_data(as_text=True))[0]
    assert says("A deleted account") in entry and "Ehemalig" not in entry
    stored = db.session.scalar(select(AuditEntry))
    assert stored.actor_id == former.id  # the link stays; the name is what is gone


def test_an_empty_audit_log(client, make_user, login):
    login(make_user(roles=("citizen", "staff")))
    response = client.get("/staff/audit")
    assert says("No entries yet.") in response.get_data(as_text=True)


def test_the_audit_log_is_paged_newest_first(client, make_user, login):
    staff = make_user(roles=("citizen", "staff"))
    for n in range(PAGE_SIZE + 3):
        record_action(staff, "role.grant", "user", n + 1, role="juror")
    db.session.commit()
    assert [e.object_id for e in list_actions(page=2).items] == [3, 2, 1]
    login(staff)
    first = rows(client.get("/staff/audit").get_data(as_text=True))
    second = rows(client.get("/staff/audit?page=2").get_data(as_text=True))
    assert len(first) == PAGE_SIZE and len(second) == 3
    # Accounts 1 and 53 do not exist: the sentences say so instead of showing a number.
    assert says("a deleted account") in first[0] and "53" not in first[0].split("</time>")[1]


def test_an_entry_commits_with_the_change_it_records(make_user):
    staff = make_user(roles=("citizen", "staff"))
    record_action(staff, "role.grant", "user", 1, role="juror")
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry)) is None


def test_entries_store_utc_times(make_user):
    staff = make_user(roles=("citizen", "staff"))
    record_action(staff, "role.grant", "user", 1)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(AuditEntry)).created_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert abs(stored - datetime.now(UTC)) < timedelta(minutes=1)
