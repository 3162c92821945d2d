"""The idea list's cards, rendered once and shared by everybody who sees the same list.

A list page is personal as soon as someone is logged in (their budget, their vote buttons,
the results-mail and follow forms), so the page cache never serves it to them. Its bulk,
though, the 20 cards with counts and excerpts, is the same for every viewer of that list in
that language but for the vote buttons: whether the person voted for the idea, and the
form's CSRF token. So the cards are rendered once with a slot for each button and kept as a
shared fragment (consult.page_cache.cached_fragment, invalidated with the cached pages);
each request fills the slots with the person's buttons: two small renders, whatever the
number of cards, instead of the count, the page's query and twenty cards.
"""

import re
import secrets

from flask import current_app, g, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..i18n import _, current_locale
from ..ideas import services as ideas
from ..page_cache import cached_fragment
from ..voting.views import vote_notes
from .list_options import ListOptions


def idea_cards(
    challenge, options: ListOptions, voting, counts_hidden: bool, max_age: int
) -> tuple[ideas.IdeaPage, Markup]:
    """The page of the list (total and page number, no items) and its cards' HTML for
    this viewer; the HTML is empty when the page lists no idea."""
    # What the cards show besides the ideas: a login link for visitors, a voter's buttons
    # (filled in below), or nothing (voting closed, a juror, an account without the role).
    viewer = "voter" if voting.voter else "anonymous" if voting.anonymous else "other"

    def render() -> tuple[dict, str]:
        listed = ideas.list_ideas(
            challenge,
            sort=options.sort,
            category_id=options.category_id,
            district_id=options.district_id,
            query=options.query,
            page=options.page,
            seed=options.seed or 1,
            answer=options.answer,
        )
        # The slots' marker is new for every render: no idea's text can forge one.
        marker = secrets.token_hex(8)
        html = render_template(
            "challenges/_cards.html",
            items=listed.items,
            counts_hidden=counts_hidden,
            voting_open=voting.open,
            viewer=viewer,
            slot=lambda idea_id: Markup(f"<!--{marker}:{int(idea_id)}-->"),  # noqa: S704
        )
        data = {"total": listed.total, "page": listed.page, "marker": marker}
        return data, html if listed.items else ""

    if options.query or options.sort == "random" or options.ignored:
        # Searches and seeds have too many values to keep (the page cache skips them too).
        data, html = render()
    elif g.get("page_cache") == "miss":
        # A visitor's page that the page cache is about to keep whole.
        data, html = render()
    else:
        parts = [
            challenge.id,
            options.sort,
            options.category_id,
            options.district_id,
            options.answer,
            options.page,
            current_locale(),
            counts_hidden,
            voting.open,
            viewer,
        ]
        # A page past the end shows the last page: kept only under its own number.
        keep = lambda data: data["page"] == options.page  # noqa: E731
        data, html = cached_fragment("idea-cards", parts, max_age, render, keep)
    page = ideas.IdeaPage(items=[], page=data["page"], total=data["total"])
    if viewer == "voter" and html:
        html = _fill_slots(html, data["marker"], challenge, voting)
    # Rendered by our templates, which escaped every value (the cache holds only that).
    return page, Markup(html)  # noqa: S704


def _fill_slots(html: str, marker: str, challenge, voting) -> str:
    """The cards with this voter's button in each slot."""
    template = current_app.jinja_env.get_template("voting/_vote_form.html")
    shared = {
        "token": generate_csrf(),
        "next_url": request.full_path.rstrip("?"),
        "vote_url": url_for("voting.vote", challenge_id=challenge.id),
        "unvote_url": url_for("voting.unvote", challenge_id=challenge.id),
        "label_vote": _("Vote"),
        "label_voted": _("Voted – withdraw"),
        "describe": True,
    }
    # Each kind of button rendered once with a stand-in id, then copied for each card;
    # a button answering a vote made without JavaScript (its note) is rendered on its own.
    stand_in = secrets.token_hex(8)
    blank = {
        voted: template.render(idea_id=stand_in, voted=voted, note=None, **shared)
        for voted in (False, True)
    }
    notes = vote_notes()
    pieces = re.split(f"<!--{marker}:([0-9]+)-->", html)
    for i in range(1, len(pieces), 2):
        idea_id = int(pieces[i])
        voted = idea_id in voting.voted
        note = notes.get(idea_id)
        if note:
            pieces[i] = template.render(idea_id=idea_id, voted=voted, note=note, **shared)
        else:
            pieces[i] = blank[voted].replace(stand_in, str(idea_id))
    return "".join(pieces)
