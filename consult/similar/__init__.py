"""Similar ideas, found on the city's own server before a citizen posts a new one."""
