"""Visitors' pages from a shared cache: rendered once, served to every anonymous visitor.

What is cached: the 200 answers to GET/HEAD of the views decorated with ``cached_page``
(home, challenge page with its list, idea page, results, projects), only for requests that
carry no cookie but the language and random-order cookies and no Authorization header: a
session or remember cookie means a person (or at least a CSRF token), and their pages are
never taken from nor put into this cache.

The key is built from what changes the page, never from what a client may forge freely:
the endpoint, its view arguments, the page's known query parameters (each at most once,
short, valid in form; anything else and the request is simply not cached), and the locale
actually chosen (not the raw Accept-Language). Never the Host header: absolute links in
pages come from PUBLIC_URL (consult.urls).

Invalidation: one generation token for the whole site, replaced after every commit that
wrote a table a public page shows (SQLAlchemy session events: ORM flushes and Core
INSERT/UPDATE/DELETE through the session, such as votes), so no service has to remember
it. An entry carries the token it was rendered under, read *before* rendering, so a page
rendered from data older than a change is never stored as current. The clock: an entry
expires at the next schedule boundary of every challenge the render loaded (a phase
change, the results embargo) and at most after the page's public max-age.

Backends: Redis when REDIS_URL is set (shared by all processes); in-process when the app
is served by the single-process embedded server (``python3 -m consult run``); otherwise
off, since several processes with caches of their own would not see each other's
invalidations. PAGE_CACHE = "redis" | "memory" | "off" forces a choice. A Redis that is
down or hung costs at most what consult.redis_breaker allows; the page is then rendered.
"""

import hashlib
import json
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, g, has_app_context, make_response, request, session
from flask_login import current_user
from sqlalchemy import Join, Select, TextClause, event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from .clock import now
from .extensions import db
from .i18n import LANG_COOKIE, current_locale
from .redis_breaker import redis_failed, redis_worked, usable_redis

log = logging.getLogger(__name__)

HEADER = "X-Page-Cache"
# How the shared pieces of a page were found: "idea-cards=hit" (see cached_fragment).
FRAGMENT_HEADER = "X-Page-Cache-Fragments"
# Cookies that change nothing personal: the language (part of the key through the
# locale) and the random-order seed (only read by the redirect to a seeded URL).
HARMLESS_COOKIES = frozenset({LANG_COOKIE, "consult_order"})
# A query value longer than this makes the request uncacheable (it is rendered as usual).
MAX_VALUE = 40
MAX_BODY = 2 * 1024 * 1024
MEMORY_ENTRIES = 2000
# Tables whose rows no public page shows: writing them never invalidates the cache
# (logins, audit, rate limits, outbox, subscriptions, reports, jury work in progress).
PRIVATE_TABLES = frozenset(
    {
        "audit_entries",
        "job_outbox",
        "rate_limit_counters",
        "recovery_codes",
        "sso_identities",
        "used_tokens",
        "results_subscriptions",
        "notifications_sent",
        "digest_items",
        "challenge_followers",
        "reports",
        "jury_scores",
        "jury_reviews",
        "juror_assignments",
        "event_participants",
    }
)
# Tables of which public pages show only some columns: an UPDATE of the others (a login's
# TOTP step, a password, notification settings) changes no public page. Authors' names
# are shown, and whether an account was deleted.
PUBLIC_COLUMNS = {"users": frozenset({"pseudonym", "deleted_at"})}
# Coalescing: while one request renders a page, others asking for it wait for its copy,
# polling every POLL_SECONDS, for at most WAIT_SECONDS; the claim lapses after LOCK_MS.
WAIT_SECONDS = 1.0
POLL_SECONDS = 0.01
LOCK_MS = 2000
_STORED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language")
_DIRTY = "consult_page_cache_dirty"
_READ_ONLY_SQL = re.compile(r"\s*(select|show|explain|values)\b", re.IGNORECASE)


# --- stores ---------------------------------------------------------------------------


class MemoryStore:
    """A bounded LRU of entries and the generation token, for one process."""

    def __init__(self, max_entries: int = MEMORY_ENTRIES):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = secrets.token_hex(8)

    def read(self, key: str) -> tuple[bytes | None, str | None]:
        entries, generation = self.read_many([key])
        return entries[0], generation

    def read_many(self, keys: list[str]) -> tuple[list[bytes | None], str | None]:
        with self._lock:
            entries = [self._entries.get(key) for key in keys]
            for key, entry in zip(keys, entries, strict=True):
                if entry is not None:
                    self._entries.move_to_end(key)
            return entries, self._generation

    def write(self, key: str, value: bytes, seconds: int) -> None:
        self.write_many([(key, value)], seconds)

    def write_many(self, entries: list[tuple[str, bytes]], seconds: int) -> None:
        with self._lock:
            for key, value in entries:
                self._entries[key] = value
                self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def claim(self, key: str, generation: str) -> bool:
        return True  # one process of a development server: a herd is no concern

    def release(self, key: str, generation: str) -> None:
        pass

    def bump(self) -> None:
        with self._lock:
            self._generation = secrets.token_hex(8)
            # Old entries can never match again: free their memory now.
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:  # an empty store is still a store
        return True


class RedisStore:
    """Entries and the generation token in the shared Redis, under a namespace of this
    database (two deployments sharing a Redis never see each other's pages)."""

    def __init__(self, namespace: str):
        self.prefix = f"consult:page:{namespace}:"
        self.generation_key = self.prefix + "generation"
        # A bump that failed (Redis down) is repeated before this process reads again.
        self.bump_pending = False

    def read(self, key: str) -> tuple[bytes | None, str | None]:
        entries, generation = self.read_many([key])
        return entries[0], generation

    def read_many(self, keys: list[str]) -> tuple[list[bytes | None], str | None]:
        """The entries of ``keys`` (None: not stored) and the generation token, in one
        round trip; nothing and no token when Redis cannot answer."""
        nothing = [None] * len(keys)
        redis = usable_redis()
        if redis is None:
            return nothing, None
        try:
            if self.bump_pending:
                self._new_generation(redis)
            *entries, generation = redis.mget(
                *(self.prefix + key for key in keys), self.generation_key
            )
            if generation is None:
                # First use, or the token was evicted: a new one, which nothing matches.
                token = secrets.token_hex(8).encode()
                if redis.set(self.generation_key, token, nx=True):
                    entries, generation = nothing, token
                else:
                    entries, generation = nothing, redis.get(self.generation_key)
        except Exception as exc:  # any Redis failure: render instead
            redis_failed(exc)
            return nothing, None
        redis_worked()
        return entries, generation.decode() if generation else None

    def write(self, key: str, value: bytes, seconds: int) -> None:
        self.write_many([(key, value)], seconds)

    def write_many(self, entries: list[tuple[str, bytes]], seconds: int) -> None:
        redis = usable_redis()
        if redis is None:
            return
        try:
            pipe = redis.pipeline(transaction=False)
            for key, value in entries:
                pipe.set(self.prefix + key, value, ex=max(1, seconds))
            pipe.execute()
        except Exception as exc:
            redis_failed(exc)

    def claim(self, key: str, generation: str) -> bool:
        """Whether this request renders the page for ``generation`` (True also when Redis
        cannot say: then everybody renders, as without a cache)."""
        redis = usable_redis()
        if redis is None:
            return True
        try:
            return bool(redis.set(self._lock_key(key, generation), 1, nx=True, px=LOCK_MS))
        except Exception as exc:
            redis_failed(exc)
            return True

    def release(self, key: str, generation: str) -> None:
        redis = usable_redis()
        if redis is None:
            return
        try:
            redis.delete(self._lock_key(key, generation))
        except Exception as exc:
            redis_failed(exc)

    def wait(self, key: str, generation: str) -> bytes | None:
        """The entry another request is rendering, once stored; None when it ends without
        storing one (the page was not cacheable) or takes longer than WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            redis = usable_redis()
            if redis is None:
                return None
            try:
                entry, locked = redis.mget(self.prefix + key, self._lock_key(key, generation))
            except Exception as exc:
                redis_failed(exc)
                return None
            if entry is not None and _entry_generation(entry) == generation:
                return entry
            if locked is None:
                return None
        return None

    def _lock_key(self, key: str, generation: str) -> str:
        return f"{self.prefix}rendering:{key}:{generation}"

    def bump(self) -> None:
        redis = usable_redis()
        if redis is None:
            self.bump_pending = True
            return
        try:
            self._new_generation(redis)
        except Exception as exc:
            self.bump_pending = True
            redis_failed(exc)

    def _new_generation(self, redis) -> None:
        redis.set(self.generation_key, secrets.token_hex(8))
        self.bump_pending = False


def store():
    """This app's store, or None when the cache is off."""
    app = current_app
    found = app.extensions.get("consult_page_cache")
    if found is None:
        choice = app.config.get("PAGE_CACHE")
        if choice in (None, "", "auto"):
            if app.config.get("REDIS_URL"):
                choice = "redis"
            elif app.config.get("PAGE_CACHE_SINGLE_PROCESS"):
                choice = "memory"
            else:
                choice = "off"
        if choice == "redis" and app.config.get("REDIS_URL"):
            uri = app.config["SQLALCHEMY_DATABASE_URI"]
            found = RedisStore(hashlib.sha256(uri.encode()).hexdigest()[:12])
        elif choice == "memory":
            found = MemoryStore()
        else:
            found = False
        app.extensions["consult_page_cache"] = found
    return None if found is False else found


def invalidate() -> None:
    """Drop every cached page (the next request renders afresh). Called after commits."""
    found = store()
    if found is not None:
        found.bump()


# --- the decorator --------------------------------------------------------------------


def cached_page(max_age: int, args: dict | None = None):
    """Serve the view's page to anonymous visitors from the cache.

    ``args``: the query parameters the page knows, name -> check of the raw value; a
    request with any other parameter, a repeated one or a failing value is rendered as
    usual and not stored. Put it below ``public_page``, so hits get the same headers.
    """
    known = args or {}

    def decorator(view):
        @wraps(view)
        def wrapper(*view_args, **view_kwargs):
            key = _request_key(known)
            found = store() if key is not None else None
            if found is None:
                g.page_cache = "bypass"
                return view(*view_args, **view_kwargs)
            raw, generation = found.read(key)
            hit = _entry_response(raw, generation)
            if hit is not None:
                g.page_cache = "hit"
                return hit
            if generation is not None and not found.claim(key, generation):
                # Another request renders this very page: wait for its copy rather than
                # render it once more (after a change, every visitor would otherwise).
                hit = _entry_response(found.wait(key, generation), generation)
                if hit is not None:
                    g.page_cache = "hit"
                    return hit
            g.page_cache = "miss"
            try:
                response = make_response(view(*view_args, **view_kwargs))
                if generation is not None and _storable(response):
                    expires = _expiry(max_age)
                    seconds = math.ceil((expires - now()).total_seconds())
                    if seconds > 0:
                        found.write(key, _entry(response, generation, expires), seconds)
            finally:
                if generation is not None:
                    found.release(key, generation)
            return response

        return wrapper

    return decorator


def cached_fragment(name: str, parts: list, max_age: int, render, keep=None):
    """A piece of a page that is the same for everybody who sees it, from the cache.

    For pages that are personal as a whole, such as a logged-in person's idea list: the
    person's parts are rendered each time, the shared piece (the 20 idea cards) comes from
    here. ``parts``: everything that changes the piece, as JSON-able values (the caller's
    list options, locale, what the viewer may do); ``render()`` returns ``(data, html)``,
    ``data`` being JSON-able too (a total, a page number); ``keep(data)`` False: this render
    must not be stored (its key does not name it, say). Invalidated and expired exactly as
    the cached pages are: the same generation token, the same schedule boundaries.
    """
    found = store()
    if found is None:
        return render()
    key = _fragment_key(name, parts)
    raw, generation = found.read(key)
    meta, body = _fresh_entry(raw, generation)
    fragments = g.setdefault("page_fragments", [])
    if meta is not None:
        fragments.append(f"{name}=hit")
        return meta.get("data"), body.decode()
    fragments.append(f"{name}=miss")
    data, html = render()
    if generation is not None and (keep is None or keep(data)):
        _write_fragments(found, [(key, data, html)], generation, max_age)
    return data, html


def cached_fragments(name: str, keys: list[list], max_age: int, render) -> list[tuple]:
    """Several pieces of one kind at once, from the cache in one round trip: such as the
    cards of a search's result, whose pages have too many variants to keep whole.

    ``keys``: each piece's parts (as in ``cached_fragment``); ``render(indices)`` returns
    ``(data, html)`` of the pieces at those indices that were not in the cache, in order.
    Returns ``(data, html)`` of every piece. The header counts the hits: ``name=17/20``.
    """
    found = store()
    if found is None:
        return render(list(range(len(keys))))
    names = [_fragment_key(name, parts) for parts in keys]
    raws, generation = found.read_many(names)
    pieces: list = [None] * len(keys)
    for i, raw in enumerate(raws):
        meta, body = _fresh_entry(raw, generation)
        if meta is not None:
            pieces[i] = (meta.get("data"), body.decode())
    missing = [i for i, piece in enumerate(pieces) if piece is None]
    g.setdefault("page_fragments", []).append(f"{name}={len(keys) - len(missing)}/{len(keys)}")
    if missing:
        rendered = render(missing)
        for i, piece in zip(missing, rendered, strict=True):
            pieces[i] = piece
        if generation is not None:
            entries = [(names[i], *piece) for i, piece in zip(missing, rendered, strict=True)]
            _write_fragments(found, entries, generation, max_age)
    return pieces


def _fragment_key(name: str, parts: list) -> str:
    return f"fragment:{name}:" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _write_fragments(found, entries: list[tuple], generation: str, max_age: int) -> None:
    """Store ``(key, data, html)`` entries of ``generation`` until the page's expiry."""
    expires = _expiry(max_age)
    seconds = math.ceil((expires - now()).total_seconds())
    if seconds <= 0:
        return
    stamp = {"generation": generation, "expires": expires.timestamp()}
    found.write_many(
        [
            (key, json.dumps({**stamp, "data": data}).encode() + b"\n" + html.encode())
            for key, data, html in entries
        ],
        seconds,
    )


def do_not_store() -> None:
    """For a view: this answer must not be cached (it says an option was ignored...)."""
    g.page_cache_veto = True


def digits(limit: int = 9):
    """A check for a number parameter of at most ``limit`` digits, no sign, no zeros first."""

    def check(value: str) -> bool:
        if value == "":
            return True
        plain = value.isascii() and value.isdigit() and not value.startswith("0")
        return plain and len(value) <= limit

    return check


def one_of(*choices: str):
    allowed = frozenset(choices) | {""}
    return allowed.__contains__


def _request_key(known: dict) -> str | None:
    """The canonical key of this request, or None when it must not use the cache."""
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return None
    if any(name not in HARMLESS_COOKIES for name in request.cookies):
        return None
    params = []
    for name in request.args:
        values = request.args.getlist(name)
        check = known.get(name)
        if check is None or len(values) != 1 or len(values[0]) > MAX_VALUE:
            return None
        if not check(values[0]):
            return None
        params.append((name, values[0]))
    view_args = sorted((k, str(v)) for k, v in (request.view_args or {}).items())
    parts = [request.endpoint, view_args, sorted(params), current_locale()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and "Cache-Control" not in response.headers
        and not session.modified
        and not current_user.is_authenticated
        and not g.get("page_cache_veto")
        and len(response.get_data()) <= MAX_BODY
    )


def _expiry(max_age: int) -> datetime:
    """When the page stops being right by the clock alone: its max-age, or earlier the
    next schedule boundary (phase change, results embargo) of a challenge it loaded."""
    from .challenges.models import Challenge
    from .results.models import Announcement

    at = now()
    moments = [at + timedelta(seconds=max_age)]
    challenges = [o for o in list(db.session.identity_map.values()) if isinstance(o, Challenge)]
    for challenge in challenges:
        moments += [
            challenge.submission_opens_at,
            challenge.submission_closes_at,
            challenge.voting_opens_at,
            challenge.voting_closes_at,
            challenge.results_at,
            challenge.archived_at,
        ]
    if challenges:
        moments += db.session.scalars(
            select(Announcement.embargo_at).where(
                Announcement.challenge_id.in_([c.id for c in challenges]),
                Announcement.embargo_at > at,
            )
        )
    return min(m for m in moments if m is not None and m > at)


def _entry(response, generation: str, expires: datetime) -> bytes:
    meta = {
        "generation": generation,
        "expires": expires.timestamp(),
        "headers": [[k, response.headers[k]] for k in _STORED_HEADERS if k in response.headers],
    }
    return json.dumps(meta).encode() + b"\n" + response.get_data()


def _entry_meta(raw: bytes) -> tuple[dict, bytes]:
    head, _, body = raw.partition(b"\n")
    try:
        meta = json.loads(head)
    except ValueError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), body


def _entry_generation(raw: bytes) -> str | None:
    return _entry_meta(raw)[0].get("generation")


def _fresh_entry(raw: bytes | None, generation: str | None) -> tuple[dict | None, bytes]:
    """The entry's meta data and body if it is of this generation and not expired."""
    if raw is None or generation is None:
        return None, b""
    meta, body = _entry_meta(raw)
    if meta.get("generation") != generation or now().timestamp() >= meta.get("expires", 0):
        return None, b""
    return meta, body


def _entry_response(raw: bytes | None, generation: str | None):
    meta, body = _fresh_entry(raw, generation)
    if meta is None:
        return None
    response = current_app.response_class(body, status=200)
    for name, value in meta.get("headers", []):
        response.headers[name] = value
    return response


def _mark_header(response):
    state = g.get("page_cache")
    if state:
        response.headers[HEADER] = state
    fragments = g.get("page_fragments")
    if fragments:
        response.headers[FRAGMENT_HEADER] = ", ".join(fragments)
    return response


# --- invalidation ---------------------------------------------------------------------


def _public_table(table) -> bool:
    return getattr(table, "name", None) not in PRIVATE_TABLES


def _shows_change(obj) -> bool:
    """Whether a changed object (of a public table) changes what a public page shows."""
    shown = PUBLIC_COLUMNS.get(getattr(obj.__table__, "name", None))
    if shown is None:
        return True
    state = inspect(obj)
    if not state.persistent:  # new or deleted rows: be safe
        return True
    return any(state.attrs[name].history.has_changes() for name in shown)


def _after_flush(session, _context) -> None:
    if session.info.get(_DIRTY):
        return
    for obj in session.new:
        if _public_table(getattr(obj, "__table__", None)):
            session.info[_DIRTY] = True
            return
    for obj in (*session.dirty, *session.deleted):
        if _public_table(getattr(obj, "__table__", None)) and (
            obj in session.deleted or _shows_change(obj)
        ):
            session.info[_DIRTY] = True
            return


def _written_tables(state) -> list:
    """The tables a statement run through the session writes (None: cannot tell)."""
    statement = state.statement
    if state.is_update and _updates_only_hidden_columns(statement):
        return []
    if state.is_insert or state.is_update or state.is_delete:
        return [getattr(statement, "table", None)]
    if isinstance(statement, TextClause):
        return [] if _READ_ONLY_SQL.match(statement.text) else [None]
    if state.is_select:
        return _tables_written_by_select(statement)
    return [None]


def _updates_only_hidden_columns(statement) -> bool:
    """An UPDATE … SET of columns no public page shows (see PUBLIC_COLUMNS)."""
    shown = PUBLIC_COLUMNS.get(getattr(getattr(statement, "table", None), "name", None))
    values = getattr(statement, "_values", None)
    if shown is None or not values or getattr(statement, "_multi_values", None):
        return False
    names = {getattr(key, "key", key) for key in values}
    return all(isinstance(name, str) for name in names) and not (names & shown)


def _tables_written_by_select(statement) -> list:
    """A SELECT writes when it reads from an INSERT/UPDATE/DELETE … RETURNING in a CTE.

    Only what the statement selects from is looked at (its columns' tables, explicit
    FROMs and joins, its CTEs, through subqueries), read from the statement's own
    attributes: a full walk of the tree, or SQLAlchemy's FROM computation, cost a list
    page 3 to 40 ms. A writing CTE used only in a WHERE's subquery would go unnoticed
    (nothing in consult writes that way).
    """
    written, stack, steps = [], [statement], 0
    while stack and steps < 200:
        steps += 1
        item = stack.pop()
        element = getattr(item, "element", None)  # of a CTE, subquery or alias
        if isinstance(item, UpdateBase) or isinstance(element, UpdateBase):
            written.append((item if isinstance(item, UpdateBase) else element).table)
        elif isinstance(item, Join):
            stack += [item.left, item.right]
        else:
            select_ = element if isinstance(element, Select) else item
            if isinstance(select_, Select):
                stack += getattr(select_, "_independent_ctes", ())
                stack += getattr(select_, "_from_obj", ())
                stack += [join[0] for join in getattr(select_, "_setup_joins", ())]
                for column in getattr(select_, "_raw_columns", ()):
                    table = getattr(column, "table", None)
                    if table is not None and getattr(table, "element", None) is not None:
                        stack.append(table)  # only a CTE, subquery or alias can write
    return written


def _do_orm_execute(state) -> None:
    # Core and bulk statements through the session (votes, counters) skip the flush.
    if not state.session.info.get(_DIRTY) and any(
        table is None or _public_table(table) for table in _written_tables(state)
    ):
        state.session.info[_DIRTY] = True


def _after_commit(session) -> None:
    if session.info.pop(_DIRTY, False) and has_app_context():
        try:
            invalidate()
        except Exception:  # never let a commit that happened look failed
            log.exception("could not invalidate the page cache")


def _after_rollback(session) -> None:
    session.info.pop(_DIRTY, None)


_listening = False


def init_app(app) -> None:
    global _listening
    app.after_request(_mark_header)
    if not _listening:
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _listening = True
