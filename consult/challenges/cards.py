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
from ..page_cache import cached_fragment, cached_fragments, store
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
    shown = {"counts_hidden": counts_hidden, "voting_open": voting.open, "viewer": viewer}

    def list_page(ids_only: bool = False) -> ideas.IdeaPage:
        return ideas.list_ideas(
            challenge,
            sort=options.sort,
            category_id=options.category_id,
            district_id=options.district_id,
            query=options.query,
            page=options.page,
            seed=options.seed or 1,
            answer=options.answer,
            ids_only=ids_only,
        )

    def render() -> tuple[dict, str]:
        listed = list_page()
        marker, html = _render_cards(listed.items, shown)
        data = {"total": listed.total, "page": listed.page, "marker": marker}
        return data, html if listed.items else ""

    unbounded = options.query or options.sort == "random" or options.ignored
    if unbounded and store() is not None:
        # Searches and seeds have too many values to keep whole (the page cache skips them
        # too); each card is kept on its own instead, and the page is put together.
        listed = list_page(ids_only=True)
        data = {"total": listed.total, "page": listed.page}
        pieces = _cached_cards(challenge, listed.items, shown, max_age)
    else:
        if unbounded or g.get("page_cache") == "miss":
            # No cache, or a visitor's page that the page cache is about to keep whole.
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
        pieces = [(data["marker"], html)] if html else []
    if viewer == "voter" and pieces:
        fill = _slot_filler(challenge, voting)
        pieces = [(marker, fill(html, marker)) for marker, html in pieces]
    page = ideas.IdeaPage(items=[], page=data["page"], total=data["total"])
    # Rendered by our templates, which escaped every value (the cache holds only that).
    return page, Markup("".join(html for _marker, html in pieces))  # noqa: S704


def _render_cards(items, shown: dict, card_end: str = "") -> tuple[str, str]:
    """(the slots' marker, the cards' HTML) of ``items``."""
    # The slots' marker is new for every render: no idea's text can forge one.
    marker = secrets.token_hex(8)
    html = render_template(
        "challenges/_cards.html",
        items=items,
        card_end=card_end,
        slot=lambda idea_id: Markup(f"<!--{marker}:{int(idea_id)}-->"),  # noqa: S704
        **shown,
    )
    return marker, html


def _cached_cards(challenge, ids: list[int], shown: dict, max_age: int) -> list[tuple]:
    """(marker, HTML) of the cards of ``ids``, each from the cache or rendered."""
    locale = current_locale()
    keys = [[idea_id, locale, *shown.values()] for idea_id in ids]

    def render(missing: list[int]) -> list[tuple[dict, str]]:
        # One render for all missing cards, cut apart at a mark no idea's text can hold.
        listed = ideas.listed_ideas(challenge, [ids[i] for i in missing])
        card_end = Markup(f"<!--{secrets.token_hex(8)}-->")  # noqa: S704
        marker, html = _render_cards(listed, shown, card_end)
        cards = dict(zip((item.idea.id for item in listed), html.split(card_end), strict=False))
        # An idea hidden between the two queries has no card: it is left out.
        return [({"marker": marker}, cards.get(ids[i], "")) for i in missing]

    return [
        (data["marker"], html)
        for data, html in cached_fragments("idea-card", keys, max_age, render)
    ]


def _slot_filler(challenge, voting):
    """A function that puts this voter's buttons into the slots of rendered cards."""
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

    def fill(html: str, marker: str) -> str:
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

    return fill
