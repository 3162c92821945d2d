"""Helpers for the page-cache tests (imported by name; pytest does not collect this file)."""

from consult.page_cache import HEADER


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
