"""What runs between kopf's events, kopf-free: both kinds' passes and retries, their state, the credentials gate."""
