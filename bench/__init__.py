"""``make bench``: the operator against the floor, at N and 4N, and idle (issue 6). Run as ``python -m bench``."""
