"""The command line: ``headlamp-operator run`` (docs/install.md#configuration); the sandbox is
``headlamp-operator-sandbox``, of the test kit.

Help texts are written for the person at the terminal. A bad value names where it came from: the
flag when it was given on the command line (argparse's own shape, exit code 2), else the environment
variable (``headlamp-operator: configuration error: HEADLAMP_URL: ...``, exit code 2).
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import headlamp_operator
from headlamp_operator import settings as settings_module

DESCRIPTION = "Drive Headlamp's backend from Kubernetes custom resources: PortForward and ResourcePatch."


def _epilog() -> str:
    """What ``run --help`` ends with: every variable, from the settings (a flag wins over its variable)."""
    variables = [d.option.env for d in settings_module.described() if d.option.env and d.option.flag]
    said = ("Every Headlamp setting can also come from an environment variable (" + ", ".join(variables)
            + "); a flag wins over its variable. Give tokens as variables: flags show in process lists.")
    cluster = "The cluster is the one of the in-cluster service account, else of $KUBECONFIG."
    return f"{textwrap.fill(said, width=79)}\n{cluster}\n"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return value


def _add_option(group: argparse._ActionsContainer, setting: settings_module.Described) -> None:
    """One ``run`` flag, as the setting's :class:`~headlamp_operator.settings.Option` describes it."""
    option = setting.option
    assert option.flag is not None
    names = [option.flag, *([option.short] if option.short else [])]
    text, dest = option.help.format(default=setting.shown_default()), setting.dest
    if setting.type.startswith("bool"):
        group.add_argument(*names, action="store_true", default=None, dest=dest, help=text)
    elif option.kind == "append":
        group.add_argument(*names, action="append", default=None, metavar=option.metavar, dest=dest, help=text)
    elif option.choices:
        group.add_argument(*names, choices=option.choices, default=None, dest=dest, help=text)
    else:
        kind: Callable[[str], object] = _port if option.kind == "port" else float \
            if setting.type.startswith("float") else int if setting.type.startswith("int") else str
        group.add_argument(*names, type=kind, metavar=option.metavar, default=None, dest=dest, help=text)


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    run = commands.add_parser(
        "run", help="run the operator against the current cluster",
        description="Run the operator: watch PortForwards and ResourcePatches and act on them through Headlamp.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = {key: run.add_argument_group(title) for key, title in settings_module.GROUPS.items()}
    exclusive: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for setting in settings_module.described():
        option = setting.option
        if option.flag is None:
            continue
        group: argparse._ActionsContainer = groups[option.group]
        if option.exclusive:
            if option.exclusive not in exclusive:
                exclusive[option.exclusive] = groups[option.group].add_mutually_exclusive_group()
            group = exclusive[option.exclusive]
        _add_option(group, setting)
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
    flags: dict[str, Any] = {d.dest: getattr(args, d.dest, None) for d in settings_module.described() if d.option.flag}
    if flags.get("run__namespaces") is not None:
        flags["run__namespaces"] = tuple(flags["run__namespaces"])
    return settings_module.from_env(flags=flags)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_of(args)
    except settings_module.ConfigError as e:
        names = [settings_module.named(part) for part in e.variable.split("/")]
        given = any(d is not None and d.option.flag and getattr(args, d.dest, None) is not None for d in names)
        flag = "/".join(d.option.flag for d in names if d is not None and d.option.flag)
        if given:
            print(f"headlamp-operator run: error: argument {flag}: {e.message}", file=sys.stderr)
        else:
            print(f"headlamp-operator: configuration error: {e}", file=sys.stderr)
        return 2
    from headlamp_operator import runner
    runner.run(settings)
    return 0
