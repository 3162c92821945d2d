"""Telling the projector walls and moderators of an event that something changed.

``announce(event_id, topic)`` is called after a commit (an idea approved, a vote, a round
started or stopped); walls and moderator pages listening on the event's stream then
fetch the new state. Phones are never pushed to (they reload or post).

INTERFACE ONLY in the foundation commit: the implementation (Redis publish/subscribe
when REDIS_URL is set, an in-process broker otherwise) is filled in by the wall work.
"""

TOPICS = ("ideas", "queue", "round", "tally", "event")


def announce(event_id: int, topic: str) -> None:
    """Publish that ``topic`` of event ``event_id`` changed. Never raises: a wall that
    misses a message catches up on its next fetch."""
    return None
