"""Thin kopf registrations; the logic they call lives in headlamp_operator.reconciling."""
