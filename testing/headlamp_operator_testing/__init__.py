"""Emulators for tests, the benchmark and the sandbox: built from the contracts, not from our client."""
