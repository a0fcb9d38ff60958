"""Reconciling logic as plain async functions, testable without kopf."""
