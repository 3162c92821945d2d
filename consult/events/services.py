"""Events: creating, opening and closing them, joining by code and leaving.

(Foundation stub: filled in by the events-and-joining work.)
"""
