"""Official answers: every published idea gets a state and a bilingual answer from the city."""
