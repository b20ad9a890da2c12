"""``mnemo ...``: the command line."""
