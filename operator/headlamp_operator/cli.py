"""The command line: ``headlamp-operator run`` (docs/install.md#configuration); the sandbox is
``headlamp-operator-sandbox``, of the test kit.

Help texts are written for the person at the terminal. A bad value names where it came from: the
flag when it was given on the command line (argparse's own shape, exit code 2), else the environment
variable (``headlamp-operator: configuration error: HEADLAMP_URL: ...``, exit code 2).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import headlamp_operator
from headlamp_operator import logs
from headlamp_operator import settings as settings_module

DESCRIPTION = "Drive Headlamp's backend from Kubernetes custom resources: PortForward and ResourcePatch."
RUN_EPILOG = """\
Every Headlamp setting can also come from an environment variable (HEADLAMP_URL,
HEADLAMP_BACKEND_TOKEN, HEADLAMP_BACKSTAGE_TOKEN, HEADLAMP_USER_ID, HEADLAMP_REQUEST_TIMEOUT,
HEADLAMP_MAX_CONCURRENCY, HEADLAMP_ALLOW_ANONYMOUS, HEADLAMP_SYNC_INTERVAL); a flag wins over its
variable. Give tokens as variables: flags show in process lists.
The cluster is the one of the in-cluster service account, else of $KUBECONFIG.
"""

# The environment variable each flag overrides, so that an error names what the user actually wrote.
FLAG_OF_VARIABLE = {
    "HEADLAMP_URL": "--headlamp-url", "HEADLAMP_BACKEND_TOKEN": "--backend-token",
    "HEADLAMP_BACKSTAGE_TOKEN": "--backstage-token", "HEADLAMP_USER_ID": "--user-id",
    "HEADLAMP_REQUEST_TIMEOUT": "--request-timeout", "HEADLAMP_MAX_CONCURRENCY": "--max-concurrency",
    "HEADLAMP_ALLOW_ANONYMOUS": "--allow-anonymous", "HEADLAMP_SYNC_INTERVAL": "--sync-interval",
    "backoff": "--backoff-min/--backoff-max",  # one rule over the pair: 0 < minimum <= maximum
}


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return value


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    run = commands.add_parser(
        "run", help="run the operator against the current cluster",
        description="Run the operator: watch PortForwards and ResourcePatches and act on them through Headlamp.",
        epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    headlamp = run.add_argument_group("the Headlamp backend")
    headlamp.add_argument("--headlamp-url", metavar="URL",
                          help="where Headlamp's backend listens, path prefix included (default http://localhost:4466)")
    headlamp.add_argument("--backend-token", metavar="TOKEN",
                          help="the token headlamp-server was started with (its -backend-token), if any")
    headlamp.add_argument("--backstage-token", metavar="TOKEN", help="a Backstage token sent with every request")
    headlamp.add_argument("--user-id", metavar="ID", help="the Headlamp user id for clusters added from kubeconfigs")
    headlamp.add_argument("--request-timeout", type=float, metavar="SECONDS",
                          help="give up on one request after this long (default 120, as Headlamp's frontend)")
    headlamp.add_argument("--max-concurrency", type=int, metavar="N",
                          help="requests in flight per cluster at most (default 32)")
    behaviour = run.add_argument_group("behaviour")
    behaviour.add_argument("--allow-anonymous", action="store_true", default=None,
                           help="let resources without spec.credentials act as Headlamp itself (off by default)")
    behaviour.add_argument("--sync-interval", type=float, metavar="SECONDS",
                           help="how often the forwards' health is checked, one request per cluster (default 30)")
    behaviour.add_argument("--backoff-min", type=float, metavar="SECONDS",
                           help="the first retry delay after a transient error, doubled at each retry (default 1)")
    behaviour.add_argument("--backoff-max", type=float, metavar="SECONDS",
                           help="the longest retry delay after transient errors (default 300)")
    behaviour.add_argument("--finalizer-timeout", type=float, metavar="SECONDS",
                           help="how long a deletion waits for an unreachable Headlamp before letting go (default 600)")
    scope = behaviour.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", default=[], metavar="NAMESPACE",
                       help="watch only this namespace (repeat for more)")
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)")
    replicas = run.add_argument_group("replicas, probes and metrics")
    replicas.add_argument("--standalone", action="store_true",
                          help="skip leader election: only for a single replica you run yourself")
    replicas.add_argument("--lease-duration", dest="peering_lifetime", type=float, metavar="SECONDS",
                          help="how long a silent leader keeps its Lease before a standby takes over (default 60)")
    replicas.add_argument("--liveness", metavar="URL", help="serve the liveness probe here, e.g. http://0.0.0.0:8080/healthz")
    replicas.add_argument("--metrics-port", type=_port, metavar="PORT",
                          help="serve Prometheus metrics on /metrics here")
    output = run.add_argument_group("logging")
    output.add_argument("--log-format", choices=logs.FORMATS, default="full",
                        help="full: time, logger, level and message; plain: the message; json: one object a line")
    output.add_argument("--log-level", choices=logs.LEVELS, default="info", help="the least severe lines shown")
    webhook = run.add_argument_group("the admission webhook (off unless --webhook-port is given)")
    webhook.add_argument("--webhook-port", type=_port, metavar="PORT",
                         help="serve the validating webhook over HTTPS here")
    webhook.add_argument("--webhook-addr", metavar="ADDR", help="the address it listens on (default 0.0.0.0)")
    webhook.add_argument("--webhook-host", metavar="NAME",
                         help="the name the API server reaches it by, e.g. its Service's DNS name")
    webhook.add_argument("--webhook-cert", metavar="FILE", help="its certificate, e.g. mounted from cert-manager")
    webhook.add_argument("--webhook-key", metavar="FILE", help="the private key of --webhook-cert")
    webhook.add_argument("--webhook-ca", metavar="FILE", help="the CA bundle that signed --webhook-cert")
    webhook.add_argument("--webhook-managed", action="store_true",
                         help="create and keep the ValidatingWebhookConfiguration, with a CA of the operator's own")
    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``headlamp-operator`` (its subcommand ``run``)."""
    parser = argparse.ArgumentParser(prog="headlamp-operator", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"headlamp-operator {headlamp_operator.version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    return parser


def settings_of(args: argparse.Namespace) -> settings_module.Settings:
    """The settings of ``run``'s parsed arguments over the environment; raises ``ConfigError`` for a bad value."""
    overrides = {
        "backend__url": getattr(args, "headlamp_url", None),
        "backend__backend_token": getattr(args, "backend_token", None),
        "backend__backstage_token": getattr(args, "backstage_token", None),
        "backend__user_id": getattr(args, "user_id", None),
        "backend__request_timeout": getattr(args, "request_timeout", None),
        "backend__max_concurrency": getattr(args, "max_concurrency", None),
        "reconcile__allow_anonymous": getattr(args, "allow_anonymous", None),
        "reconcile__sync_interval": getattr(args, "sync_interval", None),
        "reconcile__finalizer_timeout": getattr(args, "finalizer_timeout", None),
        "reconcile__backoff_min": getattr(args, "backoff_min", None),
        "reconcile__backoff_max": getattr(args, "backoff_max", None),
        "webhook__port": getattr(args, "webhook_port", None),
        "webhook__addr": getattr(args, "webhook_addr", None),
        "webhook__host": getattr(args, "webhook_host", None),
        "webhook__certfile": getattr(args, "webhook_cert", None),
        "webhook__pkeyfile": getattr(args, "webhook_key", None),
        "webhook__cafile": getattr(args, "webhook_ca", None),
        "webhook__managed": getattr(args, "webhook_managed", None) or None,
        "peering__lifetime": getattr(args, "peering_lifetime", None),
    }
    return settings_module.from_env(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_of(args)
    except settings_module.ConfigError as e:
        flag = FLAG_OF_VARIABLE.get(e.variable)
        given = flag is not None and any(getattr(args, name.lstrip("-").replace("-", "_"), None) is not None
                                         for name in flag.split("/"))
        if given:
            print(f"headlamp-operator run: error: argument {flag}: {e.message}", file=sys.stderr)
        else:
            print(f"headlamp-operator: configuration error: {e}", file=sys.stderr)
        return 2
    from headlamp_operator import runner
    runner.run(settings, runner.RunOptions(
        namespaces=args.namespace, clusterwide=args.all_namespaces or not args.namespace,
        standalone=args.standalone, liveness=args.liveness, metrics_port=args.metrics_port,
        log_format=args.log_format, log_level=args.log_level))
    return 0
