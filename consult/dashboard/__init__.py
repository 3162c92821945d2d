"""The staff dashboard of a running challenge: its figures per day, district and category."""
