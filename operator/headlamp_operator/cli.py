"""The command line: ``headlamp-operator run`` and ``headlamp-operator sandbox``."""
from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Sequence

from headlamp_operator import settings as settings_module


def _version() -> str:
    try:
        return importlib.metadata.version("headlamp-operator")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every setting also has an environment variable (see README)."""
    parser = argparse.ArgumentParser(prog="headlamp-operator", description=__doc__)
    parser.add_argument("--version", action="version", version=f"headlamp-operator {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator against the current kubeconfig's cluster")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", default=[], help="watch this namespace (repeatable)")
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)")
    run.add_argument("--standalone", action="store_true",
                     help="no leader election: assume this is the only replica")
    run.add_argument("--lease-duration", dest="peering_lifetime", type=float, metavar="SECONDS",
                     help="how long the leader's Lease holds without renewal before a standby takes over (default 60)")
    run.add_argument("--liveness", metavar="URL", help="serve kopf's liveness probe, e.g. http://0.0.0.0:8080/healthz")
    run.add_argument("--metrics-port", type=int, metavar="N", help="serve Prometheus metrics on this port")
    run.add_argument("--headlamp-url", metavar="URL", help="overrides HEADLAMP_URL")
    run.add_argument("--backend-token", metavar="TOKEN",
                     help="overrides HEADLAMP_BACKEND_TOKEN (prefer the variable: flags show in process lists)")
    run.add_argument("--backstage-token", metavar="TOKEN", help="overrides HEADLAMP_BACKSTAGE_TOKEN (likewise)")
    run.add_argument("--user-id", metavar="ID", help="overrides HEADLAMP_USER_ID")
    run.add_argument("--request-timeout", type=float, metavar="SECONDS", help="overrides HEADLAMP_REQUEST_TIMEOUT")
    run.add_argument("--max-concurrency", type=int, metavar="N", help="overrides HEADLAMP_MAX_CONCURRENCY")
    run.add_argument("--allow-anonymous", action="store_true", default=None,
                     help="overrides HEADLAMP_ALLOW_ANONYMOUS with true")
    run.add_argument("--sync-interval", type=float, metavar="SECONDS", help="overrides HEADLAMP_SYNC_INTERVAL")
    run.add_argument("--log-format", choices=("plain", "full", "json"), default="full",
                     help="log lines as text (plain, full) or structured JSON")
    run.add_argument("--finalizer-timeout", type=float, metavar="SECONDS",
                     help="give up on an unreachable backend during deletion after this long (default 600)")
    run.add_argument("--webhook-port", type=int, metavar="N", help="serve the validating admission webhook (HTTPS)")
    run.add_argument("--webhook-addr", metavar="ADDR", help="listening address of the webhook (default 0.0.0.0)")
    run.add_argument("--webhook-host", metavar="NAME", help="the webhook Service's DNS name (certificate, config)")
    run.add_argument("--webhook-cert", metavar="FILE", help="server certificate, e.g. from cert-manager")
    run.add_argument("--webhook-key", metavar="FILE", help="private key of --webhook-cert")
    run.add_argument("--webhook-ca", metavar="FILE", help="CA bundle of --webhook-cert")
    run.add_argument("--webhook-managed", action="store_true",
                     help="create and keep the ValidatingWebhookConfiguration (operator-managed CA)")
    sandbox = commands.add_parser("sandbox", help="in-memory Kubernetes + Headlamp emulator + the operator")
    sandbox.add_argument("--once", action="store_true", help="exit 0 once every sample is Ready (60 s at most)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = settings_module.from_env(
            backend__url=getattr(args, "headlamp_url", None),
            backend__backend_token=getattr(args, "backend_token", None),
            backend__backstage_token=getattr(args, "backstage_token", None),
            backend__user_id=getattr(args, "user_id", None),
            backend__request_timeout=getattr(args, "request_timeout", None),
            backend__max_concurrency=getattr(args, "max_concurrency", None),
            reconcile__allow_anonymous=getattr(args, "allow_anonymous", None),
            reconcile__sync_interval=getattr(args, "sync_interval", None),
            reconcile__finalizer_timeout=getattr(args, "finalizer_timeout", None),
            webhook__port=getattr(args, "webhook_port", None),
            webhook__addr=getattr(args, "webhook_addr", None),
            webhook__host=getattr(args, "webhook_host", None),
            webhook__certfile=getattr(args, "webhook_cert", None),
            webhook__pkeyfile=getattr(args, "webhook_key", None),
            webhook__cafile=getattr(args, "webhook_ca", None),
            webhook__managed=getattr(args, "webhook_managed", None) or None,
            peering__lifetime=getattr(args, "peering_lifetime", None),
        )
    except settings_module.ConfigError as e:
        print(f"headlamp-operator: configuration error: {e}", file=sys.stderr)
        return 2
    if args.command == "run":
        if args.metrics_port is not None and not 0 < args.metrics_port < 65536:
            print("headlamp-operator: configuration error: --metrics-port: not a port number", file=sys.stderr)
            return 2
        from headlamp_operator import runner
        runner.run(settings, runner.RunOptions(
            namespaces=args.namespace, clusterwide=args.all_namespaces or not args.namespace,
            standalone=args.standalone, liveness=args.liveness, metrics_port=args.metrics_port,
            log_format=args.log_format))
        return 0
    from headlamp_operator import sandbox
    return sandbox.run(once=args.once)
