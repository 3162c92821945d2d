"""Values shared by tests in several folders (imported by name, never collected).

Not in conftest.py: with several conftest.py files, ``from conftest import …`` picks
whichever was imported first.
"""

# The password of every account the fixtures make.
PASSWORD = "a long and lovely passphrase"
