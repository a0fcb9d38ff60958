"""The Kubernetes API as the operator calls it itself, beside kopf: login, client, Secrets, Events, Lease, finalizer."""
