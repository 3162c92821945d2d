"""Live events (DESIGN §5a): the Helpathon evening in a hall, joined by code on phones."""
