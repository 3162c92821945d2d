"""Helpers for the page-cache tests (imported by name; pytest does not collect this file)."""

from consult.page_cache import FRAGMENT_HEADER, HEADER, store


def state(response) -> str | None:
    """ "hit", "miss" or "bypass": how the page cache answered."""
    return response.headers.get(HEADER)


def warm(client, url: str, **kwargs) -> str:
    """Fetch ``url`` until it comes from the cache; its text."""
    first = client.get(url, **kwargs)
    assert first.status_code == 200, url
    again = client.get(url, **kwargs)
    assert state(again) == "hit", (url, state(first), state(again))
    assert again.data == first.data
    return again.get_data(as_text=True)


def fresh(client, url: str, **kwargs) -> str:
    """Fetch ``url``, which must be rendered anew (the cache was invalidated); its text."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    assert state(response) == "miss", (url, state(response))
    return response.get_data(as_text=True)


def fragment_state(response, fragment: str = "idea-cards") -> str | None:
    """How a fragment of the page was found, by the header: "hit" or "miss" for the shared
    idea cards of a list; "17/20" (cards from the cache) for the single cards of a search
    or random order (``fragment="idea-card"``); None: not looked up."""
    for part in response.headers.get(FRAGMENT_HEADER, "").split(", "):
        name, _sep, found = part.partition("=")
        if name == fragment:
            return found
    return None


def pages() -> list[str]:
    """The keys of the whole pages in the in-process store."""
    return [key for key in store()._entries if not key.startswith("fragment:")]


def fragments() -> list[str]:
    """The keys of the shared idea cards of whole lists in the in-process store."""
    return [key for key in store()._entries if key.startswith("fragment:idea-cards:")]


def card_fragments() -> list[str]:
    """The keys of single idea cards (of searches and random orders) in the in-process store."""
    return [key for key in store()._entries if key.startswith("fragment:idea-card:")]


def card_hits(response) -> str | None:
    """ "17/20": how many of a search's or random order's cards came from the cache."""
    return fragment_state(response, "idea-card")
