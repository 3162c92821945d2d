"""Merging duplicate ideas: votes, comments and followers move, budgets stay exact."""
