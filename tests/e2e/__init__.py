"""End-to-end scenarios against a real cluster and a real Headlamp (opt-in: see README.md)."""
