"""The idea list's query string (sort, filters, search, page, seed), read defensively.

These are links and a GET form that anyone can edit or forge, so nothing in them is an
error: an invalid value falls back to its default and the page says that it did.
Searches longer than the limit are cut, never refused.
"""

import re
from dataclasses import dataclass, field

from ..answers.states import LIST_FILTERS
from ..ideas.services import SEARCH_MAX, SEED_MAX, SORTS

# Page numbers beyond this are "past the end" anyway; the service shows the last page.
_PAGE_BEYOND = 10**9
_NUMBER = re.compile(r"[0-9]+")


@dataclass
class ListOptions:
    sort: str = "newest"
    category_id: int | None = None
    district_id: int | None = None
    # An official answer's state, or "unanswered" (consult.answers.states.LIST_FILTERS).
    answer: str | None = None
    query: str = ""
    page: int = 1
    seed: int | None = None
    # Names of parameters that were not valid and fell back to their default.
    ignored: list[str] = field(default_factory=list)
    search_shortened: bool = False

    def link_args(self, seed: int | None = None) -> dict:
        """The non-default options, for links to other pages of the same list."""
        args = {}
        if self.sort != "newest":
            args["sort"] = self.sort
        if self.sort == "random":
            args["seed"] = seed or self.seed
        if self.category_id is not None:
            args["category"] = self.category_id
        if self.district_id is not None:
            args["district"] = self.district_id
        if self.answer is not None:
            args["answer"] = self.answer
        if self.query:
            args["q"] = self.query
        return args


def _number(raw: str) -> int | None:
    if not _NUMBER.fullmatch(raw):
        return None
    # int() refuses strings of more than 4,300 digits; nine digits are plenty for any id.
    return int(raw) if len(raw) <= 9 else _PAGE_BEYOND


def read_list_options(
    args, category_ids: set[int], district_ids: set[int], votes_sortable: bool = True
) -> ListOptions:
    """Options from ``request.args``; ids must belong to this challenge's lists."""
    options = ListOptions()
    sorts = [s for s in SORTS if votes_sortable or s != "votes"]
    sort = args.get("sort", "")
    if sort in sorts:
        options.sort = sort
    elif sort:
        options.ignored.append("sort")

    for name, allowed, attribute in (
        ("category", category_ids, "category_id"),
        ("district", district_ids, "district_id"),
    ):
        raw = args.get(name, "")
        if not raw:
            continue
        value = _number(raw)
        if value in allowed:
            setattr(options, attribute, value)
        else:
            options.ignored.append(name)

    answer = args.get("answer", "")
    if answer in LIST_FILTERS:
        options.answer = answer
    elif answer:
        options.ignored.append("answer")

    query = " ".join(args.get("q", "").split())
    if len(query) > SEARCH_MAX:
        query, options.search_shortened = query[:SEARCH_MAX].rstrip(), True
    options.query = query

    raw_page = args.get("page", "")
    if raw_page:
        page = _number(raw_page)
        if page:
            options.page = page
        else:
            options.ignored.append("page")

    options.seed = parse_seed(args.get("seed", ""))
    return options


def parse_seed(raw: str | None) -> int | None:
    """A random-order seed from the URL or the order cookie; None when it is not one."""
    raw = raw or ""
    if not _NUMBER.fullmatch(raw) or len(raw) > len(str(SEED_MAX)):
        return None
    seed = int(raw)
    return seed if 1 <= seed <= SEED_MAX else None
