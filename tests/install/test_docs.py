"""The README, the pages of docs/ and the Dockerfile checked against the code, so that they stay true.

The README is a quick start; the reference lives in docs/, one page per topic. Every command they
show is exercised here or by CI: `make` targets exist, `headlamp-operator` command lines parse with
the real argument parser, the configuration table (docs/install.md) matches what settings.py reads
and its defaults, the phase, reason and condition tables (docs/status.md) and the metric table
(docs/operations.md) match the code, every linked file exists and every anchor has its heading on
every page, every sample is linked, the example resources pass the operator's own validation and
the README's are the samples themselves, the Argo CD health script in docs/gitops.md is the one in
docs/ and behaves on statuses the operator renders, and the Dockerfile runs the console script as a
non-root user.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
import yaml

from headlamp_operator import cli, metrics
from headlamp_operator import settings as settings_module
from headlamp_operator.reconciling import validation
from headlamp_operator.status import render as status
from headlamp_operator_testing import sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
LUA = ROOT / "docs" / "argocd-health.lua"
GROUP = "headlamp-operator.dev"

# The pages, by path from the repository root: the README (the quick start) and docs/*.md (the reference).
README = "README.md"
INSTALL = "docs/install.md"  # running for real, overlays, RBAC, the image, configuration
STATUS = "docs/status.md"  # phases, reasons, conditions
GITOPS = "docs/gitops.md"  # Argo CD, Flux
OPERATIONS = "docs/operations.md"  # HA, sharding, metrics, the webhook
DEVELOPMENT = "docs/development.md"  # make targets, real peers, performance
BENCH = "bench/README.md"  # the benchmark's targets and results
PAGES: dict[str, str] = {README: (ROOT / README).read_text(), BENCH: (ROOT / BENCH).read_text()} | {
    path.relative_to(ROOT).as_posix(): path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
ALL = list(PAGES)

# --------------------------------------------------------------------------------------------
# Reading the pages

FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.M | re.S)  # indented ones too (inside a list)


def texts(pages: str | list[str]) -> list[str]:
    return [PAGES[page] for page in ([pages] if isinstance(pages, str) else pages)]


def fenced_blocks(pages: str | list[str] = ALL) -> list[tuple[str, str]]:
    """Every fenced code block of these pages as (language, text)."""
    return [(m.group(1), m.group(2)) for text in texts(pages) for m in FENCE.finditer(text)]


def prose(page: str) -> str:
    """A page without its fenced blocks."""
    return FENCE.sub("", PAGES[page])


def inline_code(pages: str | list[str] = ALL) -> list[str]:
    return [span for page in ([pages] if isinstance(pages, str) else pages)
            for span in re.findall(r"`([^`\n]+)`", prose(page))]


def shell_lines(pages: str | list[str] = ALL) -> list[str]:
    """Command lines: shell blocks (console blocks: only `$ ` lines) and inline code spans."""
    lines: list[str] = []
    for language, text in fenced_blocks(pages):
        if language in ("sh", "bash", "shell"):
            lines += [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        elif language == "console":
            lines += [line[2:] for line in text.splitlines() if line.startswith("$ ")]
    return lines + inline_code(pages)


def commands(pages: str | list[str] = ALL) -> Iterator[list[str]]:
    """Every simple command of every command line, as tokens (comments and redirections dropped)."""
    for line in shell_lines(pages):
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            continue  # an inline span that is not a command ("it's", a lone quote)
        command: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|<>"):
                if command:
                    yield command
                command = []
            else:
                command.append(token)


def without_env(command: list[str]) -> list[str]:
    """A command without its leading VAR=value assignments."""
    index = 0
    while index < len(command) and re.match(r"^[A-Z_][A-Z0-9_]*=", command[index]):
        index += 1
    return command[index:]


def operator_invocations(pages: str | list[str] = ALL) -> list[list[str]]:
    """The arguments of every `headlamp-operator` / `python -m headlamp_operator` command."""
    found: list[list[str]] = []
    for command in commands(pages):
        words = without_env(command)
        if len(words) > 1 and (words[0] == "headlamp-operator" or words[0].endswith("/headlamp-operator")):
            found.append(words[1:])  # (a lone `headlamp-operator` is the program's name, not a command)
        elif len(words) >= 3 and words[0].split("/")[-1].startswith("python") and words[1:3] == [
                "-m", "headlamp_operator"]:
            found.append(words[3:])
    return found


def kubectl_commands() -> list[list[str]]:
    return [words for command in commands() if (words := without_env(command)) and words[0] == "kubectl"]


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row (a `|` inside backticks does not split)."""
    cells, cell, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    return [*cells, cell.strip()]


def headings(page: str) -> list[str]:
    return re.findall(r"^#+ (.+)$", prose(page), re.M)


def section(page: str, heading: str) -> str:
    """The text under a heading of a page, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", PAGES[page], re.M)
    assert match, f"{page} has no heading {heading!r}"
    level = len(match.group(1))
    rest = PAGES[page][match.end():]
    following = re.search(rf"^#{{1,{level}}} ", FENCE.sub(lambda m: " " * len(m.group(0)), rest), re.M)
    return rest[:following.start()] if following else rest


def table_after(page: str, heading: str) -> list[dict[str, str]]:
    """The first table after the heading of that page whose text is `heading`, as rows keyed by column name."""
    match = re.search(rf"^#+ {re.escape(heading)}\s*$", PAGES[page], re.M)
    assert match, f"{page} has no heading {heading!r}"
    lines = PAGES[page][match.end():].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(split_row(line))
    header, body = rows[0], rows[2:]
    return [dict(zip(header, row, strict=True)) for row in body]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def yaml_documents(pages: str | list[str] = ALL) -> list[dict[str, Any]]:
    documents = []
    for language, text in fenced_blocks(pages):
        if language == "yaml":
            documents += [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    return documents


def samples() -> dict[str, list[dict[str, Any]]]:
    """The documents of every file of manifests/samples/, by path from the repository root."""
    return {path.relative_to(ROOT).as_posix(): [d for d in yaml.safe_load_all(path.read_text()) if d]
            for path in sorted((ROOT / "manifests" / "samples").glob("*.yaml"))}


# --------------------------------------------------------------------------------------------
# The README is a quick start; docs/ holds the reference


def test_readme_is_a_quick_start_whose_first_screen_says_how_to_try_it_and_how_to_install_it() -> None:
    assert headings(README) == ["headlamp-operator", "Try it: two commands, no cluster", "Install", "Examples",
                                "Learn more"]
    assert len(PAGES[README].splitlines()) <= 170, "the README is a quick start: the reference goes to docs/"
    first_screen = PAGES[README][:PAGES[README].index("## Examples")]
    for needed in ("make run", "make test", "make deploy", "kubectl apply -k manifests/", "HEADLAMP_URL",
                   "HEADLAMP_BACKEND_TOKEN", "RBAC", "Helm", "docs/install.md"):
        assert needed in first_screen, needed


def test_readme_shows_one_sample_of_each_kind_verbatim() -> None:
    shown = [d for d in yaml_documents(README) if d.get("apiVersion", "").startswith(GROUP + "/")]
    assert sorted(d["kind"] for d in shown) == ["PortForward", "ResourcePatch"]
    linked = set(link_targets(README))
    for document in shown:
        files = [path for path, documents in samples().items() if document in documents]
        assert files, f"the README's {document['kind']} is not one of manifests/samples/"
        assert set(files) & linked, f"the README does not link the sample it shows: {files}"


def test_every_docs_page_is_linked_from_the_readme_and_from_the_index() -> None:
    pages = {page for page in PAGES if page.startswith("docs/")}
    assert {INSTALL, STATUS, GITOPS, OPERATIONS, DEVELOPMENT, "docs/README.md"} <= pages
    from_readme = {resolve(README, target)[0] for target in link_targets(README)}
    from_index = {resolve("docs/README.md", target)[0] for target in link_targets("docs/README.md")}
    assert pages <= from_readme, f"docs pages the README does not link: {pages - from_readme}"
    assert pages - {"docs/README.md"} <= from_index, f"docs pages the index does not link: {pages - from_index}"


def test_every_page_has_one_title_and_unique_headings() -> None:
    for page in PAGES:
        titles = [h for h in re.findall(r"^# (.+)$", prose(page), re.M)]
        assert len(titles) == 1 and PAGES[page].startswith(f"# {titles[0]}\n"), page
        slugs = [slug(h) for h in headings(page)]
        assert len(slugs) == len(set(slugs)), f"{page}: two headings share an anchor"


# --------------------------------------------------------------------------------------------
# make


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9][\w.-]*)\s*:(?!=)", text, re.M))


def makefile_recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def make_targets_mentioned(pages: str | list[str] = ALL) -> set[str]:
    targets = set()
    for command in commands(pages):
        words = without_env(command)
        if words and words[0] == "make":
            targets |= {w for w in words[1:] if not w.startswith("-") and "=" not in w}
    return targets


def test_every_make_target_the_pages_mention_exists() -> None:
    assert {"run", "test", "deploy", "image"} <= make_targets_mentioned(README)
    for page in PAGES:
        missing = make_targets_mentioned(page) - makefile_targets()
        assert not missing, f"{page} mentions missing make targets: {missing}"


def test_every_make_target_is_documented_in_the_development_page() -> None:
    documented = make_targets_mentioned(DEVELOPMENT)
    assert makefile_targets() <= documented, makefile_targets() - documented


def test_make_recipes_are_what_the_pages_say() -> None:
    for target in ("deploy", "undeploy", "image"):
        for line in makefile_recipe(target):
            assert f"`{line}`" in PAGES[DEVELOPMENT], f"make {target} runs {line!r}, which {DEVELOPMENT} does not quote"
    for line in makefile_recipe("deploy") + makefile_recipe("image"):
        assert f"`{line}`" in PAGES[README], f"the README's install does not quote {line!r}"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# --------------------------------------------------------------------------------------------
# headlamp-operator: commands, flags, environment


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")}


def test_every_operator_command_line_parses() -> None:
    invocations = operator_invocations()
    assert len(invocations) >= 5, invocations
    for args in invocations:
        try:
            cli.build_parser().parse_args(args)
        except SystemExit as e:  # argparse exits 2 on an unknown command or flag (0 for --help)
            assert e.code == 0, f"headlamp-operator {shlex.join(args)} is refused by the parser"


def test_every_args_list_in_a_yaml_example_parses() -> None:
    found = 0
    stack: list[Any] = yaml_documents()
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            args = item.get("args")
            if isinstance(args, list) and args and args[0] in subparsers():
                cli.build_parser().parse_args([str(a) for a in args])
                found += 1
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    assert found >= 1


def config_table() -> list[dict[str, str]]:
    return table_after(INSTALL, "Configuration")


def documented_variables() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for row in config_table():
        for name in ticked(row["Variable"]):
            rows[name] = row
    return rows


def documented_flags() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for row in config_table():
        for flag in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", row["Flag (`run`)"]):
            rows[flag] = row
    return rows


def test_config_table_flags_are_exactly_the_run_flags() -> None:
    run = options(subparsers()["run"])
    documented = set(documented_flags())
    assert documented <= run, f"documented but not accepted by `run`: {documented - run}"
    assert run <= documented, f"`run` flags missing from the configuration table: {run - documented}"


def test_every_sandbox_flag_is_documented() -> None:
    for flag in options(sandbox.build_parser()):
        assert f"`{flag}`" in section(INSTALL, "Configuration")
        assert f"`{flag}`" in PAGES[README]


class Recorder(dict[str, str]):
    """An environment that remembers which variables were asked for."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


SAMPLE_VALUES = {"HEADLAMP_URL": "http://headlamp.example.invalid:4466/prefix", "HEADLAMP_ALLOW_ANONYMOUS": "true"}


def flat(settings: settings_module.Settings) -> dict[str, Any]:
    return {f"{group}.{field}": value for group, fields in dataclasses.asdict(settings).items()
            for field, value in fields.items()}


def defaults_match(cell: str, default: Any) -> bool:
    """Whether a documented default cell says the same as a dataclass or argparse default."""
    words = ticked(cell) or [cell.strip()]
    text = words[0]
    if default is None or default == []:
        return cell.strip().startswith(("unset", "off", "all namespaces"))
    if isinstance(default, bool):
        return text in (("on", "true") if default else ("off", "false"))
    if isinstance(default, int | float):
        return re.fullmatch(r"[0-9.]+", text) is not None and float(text) == float(default)
    return text == str(default)


def test_config_table_variables_are_exactly_what_settings_reads() -> None:
    env = Recorder()
    settings_module.from_env(env)
    read = {name for name in env.read if name.startswith("HEADLAMP_")}
    documented = set(documented_variables())
    assert documented <= read, f"documented but never read by settings.from_env: {documented - read}"
    assert read <= documented, f"read by settings.from_env but not documented: {read - documented}"


@pytest.mark.parametrize("variable", sorted(documented_variables()))
def test_each_variable_changes_its_setting_and_has_the_documented_default(variable: str) -> None:
    default = flat(settings_module.from_env({}))
    changed = flat(settings_module.from_env({variable: SAMPLE_VALUES.get(variable, "7")}))
    fields = [key for key in default if default[key] != changed[key]]
    assert len(fields) == 1, f"{variable} changes {fields}"
    row = documented_variables()[variable]
    assert defaults_match(row["Default"], default[fields[0]]), (variable, row["Default"], default[fields[0]])


def test_config_table_flag_defaults() -> None:
    """Every `run` flag is a setting (settings.described): its documented default is the dataclass's."""
    by_dest = {setting.dest: setting for setting in settings_module.described()}
    checked = 0
    for action in subparsers()["run"]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        flag = max(action.option_strings, key=len)
        row = documented_flags()[flag]
        if row["Default"].startswith("all namespaces") or "when no" in row["Default"]:
            continue  # --namespace / --all-namespaces: described in words
        default = by_dest[action.dest].default
        assert defaults_match(row["Default"], default), (flag, row["Default"], default)
        checked += 1
    assert checked >= 10


def test_bad_configuration_example_is_what_the_program_prints() -> None:
    match = re.search(r"^\$ (HEADLAMP_\w+)=(\S+) headlamp-operator run\n(.+)$", section(INSTALL, "Configuration"), re.M)
    assert match, f"the configuration-error example of {INSTALL} is gone"
    variable, value, printed = match.groups()
    proc = subprocess.run([sys.executable, "-m", "headlamp_operator", "run"],
                          env={variable: value, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == printed.strip()


# --------------------------------------------------------------------------------------------
# Status, conditions, metrics


def test_reason_table_lists_every_reason_and_only_those() -> None:
    reasons = {ticked(row["Reason"])[0] for row in table_after(STATUS, "Reasons and troubleshooting")}
    assert reasons == set(status.REASONS)


def test_reason_table_phases_are_phases() -> None:
    phases = set(typing.get_args(status.Phase))
    for row in table_after(STATUS, "Reasons and troubleshooting"):
        named = set(re.findall(r"[A-Z][a-z]+", row["Phase"]))
        assert named and named <= phases, row


def test_phase_table_lists_every_phase() -> None:
    documented = {ticked(row["Phase"])[0] for row in table_after(STATUS, "Status, phases and reasons")}
    assert documented == set(typing.get_args(status.Phase))


def test_condition_table_matches_what_status_renders() -> None:
    rows = {ticked(row["Condition"])[0]: row for row in table_after(STATUS, "Conditions and `kubectl wait`")}
    for phase in typing.get_args(status.Phase):
        outcome = status.Outcome(phase=phase, reason="Pending" if phase == "Pending" else "Applied", message="m")
        rendered = {c["type"]: c["status"] == "True" for c in status.conditions(outcome, generation=1)}
        assert set(rendered) == set(rows)
        for kind, is_true in rendered.items():
            assert (f"`{phase}`" in rows[kind]["True when"]) == is_true, (phase, kind)


def metric_names() -> set[str]:
    return set(re.findall(r'"(headlamp_operator_[a-z_]+)"', Path(metrics.__file__).read_text()))


def test_metric_table_lists_every_metric() -> None:
    documented = {ticked(row["Metric"])[0] for row in table_after(OPERATIONS, "Metrics, probes, events and logs")}
    assert documented == metric_names()


def test_every_metric_name_in_the_pages_exists() -> None:
    names = metric_names()
    mentions = {name for text in texts(ALL) for name in re.findall(r"headlamp_operator_[a-z_]+", text)}
    for mention in mentions - {"headlamp_operator_testing"}:  # the test kit's package, not a metric
        base = re.sub(r"_(bucket|sum|count|created)$", "", mention)
        assert base in names or base.removesuffix("_total") in names, mention


# --------------------------------------------------------------------------------------------
# Links, files, samples, kubectl


def link_targets(page: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", PAGES[page])


def resolve(page: str, target: str) -> tuple[str, str]:
    """A relative link of a page as (path from the repository root, anchor); the page itself for `#anchor`."""
    path, _, anchor = target.partition("#")
    if not path:
        return page, anchor
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return resolved, anchor


def relative_links() -> Iterator[tuple[str, str, str, str]]:
    """(page, link as written, path from the repository root, anchor) for every relative link of every page."""
    for page in PAGES:
        for target in link_targets(page):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            yield page, target, *resolve(page, target)


def slug(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def test_every_relative_link_exists() -> None:
    checked = 0
    for page, target, path, _ in relative_links():
        assert not path.startswith("../") and not posixpath.isabs(path), f"{page}: {target} leaves the repository"
        assert (ROOT / path).exists(), f"{page}: {target} ({path}) does not exist"
        checked += 1
    assert checked >= 100


def test_every_anchor_has_its_heading() -> None:
    checked = 0
    for page, target, path, anchor in relative_links():
        if anchor:
            assert path in PAGES, f"{page}: {target} points into {path}, which is not a page checked here"
            assert anchor in {slug(h) for h in headings(path)}, f"{page}: {target} has no heading in {path}"
            checked += 1
    assert checked >= 50


def test_every_sample_is_linked_and_every_link_to_a_sample_exists() -> None:
    files = set(samples())
    linked = {path for _, _, path, _ in relative_links()
              if path.startswith("manifests/samples/") and path.endswith(".yaml")}
    assert linked <= files, linked - files
    assert files <= linked, f"samples no page links: {files - linked}"


def test_every_repository_path_in_a_command_exists() -> None:
    for command in [*kubectl_commands(), *[["x", *args] for args in operator_invocations()]]:
        for word in command:
            path = word.split("=", 1)[-1]
            if re.match(r"^(manifests|deploy|docs|tests)/", path):
                assert (ROOT / path).exists(), f"{shlex.join(command)}: {path} does not exist"


def crds() -> list[dict[str, Any]]:
    documents = []
    for path in (ROOT / "manifests" / "crds").glob("*.yaml"):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "CustomResourceDefinition"]
    return documents


def test_kubectl_commands_name_existing_kinds_crds_and_samples() -> None:
    ours: dict[str, str] = {}  # any name kubectl accepts for our kinds -> kind ("" for the category)
    for crd in crds():
        if crd["spec"]["group"] == GROUP:
            names = crd["spec"]["names"]
            for name in (names["plural"], names["singular"], *names.get("shortNames", ())):
                ours[name] = names["kind"]
            ours.update(dict.fromkeys(names.get("categories", ()), ""))
    others = {"crd", "secret", "namespace"}
    crd_names = {crd["metadata"]["name"] for crd in crds()}
    named = {(d["kind"], d["metadata"]["name"]) for documents in samples().values() for d in documents}
    flags_with_values = {"-n", "--context", "--kubeconfig", "-f", "-k", "-o", "-p", "--type", "--timeout"}
    checked = 0
    for command in kubectl_commands():
        words = [w for i, w in enumerate(command[1:], 1) if not w.startswith("-")
                 and command[i - 1] not in flags_with_values]
        if len(words) < 2 or words[0] not in ("get", "wait", "patch", "describe"):
            continue
        # `get TYPE[,TYPE] [NAME...]` or `wait TYPE/NAME...`
        pairs = ([tuple(w.split("/", 1)) for w in words[1:]] if "/" in words[1]
                 else [(t, n) for t in words[1].split(",") for n in (words[2:] or [""])])
        for kind_name, name in pairs:
            assert kind_name in ours or kind_name in others, f"{shlex.join(command)}: unknown type {kind_name}"
            if kind_name == "crd":
                assert name in crd_names, f"{shlex.join(command)}: no CRD {name}"
            if name and ours.get(kind_name) and "demo" in command:
                assert (ours[kind_name], name) in named, f"{shlex.join(command)}: no sample {name}"
            checked += 1
    assert checked >= 8


def test_resource_examples_pass_the_operators_validation() -> None:
    checked = 0
    for document in yaml_documents():
        if document.get("apiVersion", "").startswith(GROUP + "/"):
            check = {"PortForward": validation.portforward_problems,
                     "ResourcePatch": validation.resourcepatch_problems}[document["kind"]]
            assert check(document["spec"]) == [], document
            checked += 1
    assert checked >= 2


def test_sandbox_table_is_real_sandbox_output() -> None:
    block = next(text for language, text in fenced_blocks(README) if language == "text" and "samples are Ready" in text)
    lines = block.splitlines()
    resources = [d for documents in samples().values() for d in documents if d["kind"] in sandbox.PLURALS]
    assert lines[0] == f"all {len(resources)} samples are Ready"
    assert lines[1] == sandbox.header()
    names = {(d["kind"], d["metadata"]["name"]) for d in resources}
    for line in lines[2:]:
        kind, namespace, name, cluster, phase, reason, message = line.split(maxsplit=6)
        assert (kind, name) in names
        assert phase in status.SUCCESS_PHASES and reason in status.REASONS
        row = sandbox.Row(kind=kind, namespace=namespace, name=name, cluster=cluster, phase=phase, reason=reason,
                          message=message, ready=True)
        assert sandbox.line(row) == line, "a row not in the sandbox's own format"


# --------------------------------------------------------------------------------------------
# Argo CD


def argocd_scripts() -> dict[str, str]:
    for document in yaml_documents(GITOPS):
        if document.get("kind") == "ConfigMap" and document["metadata"]["name"] == "argocd-cm":
            return dict(document["data"])
    raise AssertionError(f"no argocd-cm ConfigMap in {GITOPS}")


def test_argocd_keys_name_both_kinds_and_carry_the_script_from_docs() -> None:
    kinds = {crd["spec"]["names"]["kind"] for crd in crds() if crd["spec"]["group"] == GROUP}
    scripts = argocd_scripts()
    assert set(scripts) == {f"resource.customizations.health.{GROUP}_{kind}" for kind in kinds}
    for script in scripts.values():
        assert script == LUA.read_text()


def lua(value: Any) -> str:
    """A Python value as a Lua 5.1 table constructor or literal."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(str(k))}] = {lua(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = json.dumps(str(value), ensure_ascii=True)
    assert "\\u" not in text, "Lua 5.1 has no \\u escapes: keep test strings ASCII"
    return text


def health(obj: dict[str, Any], tmp_path: Path) -> tuple[str, str]:
    """The script's (status, message) under Lua 5.1, the version Argo CD embeds (lupa's ``lua51``)."""
    import lupa.lua51 as lua51

    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute(f"obj = {lua(obj)}")
    hs = runtime.execute(LUA.read_text())
    return str(hs["status"]), str(hs["message"])


def resource(phase: status.Phase | None, *, generation: int = 2, observed: int = 2) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": f"{GROUP}/v1alpha1", "kind": "PortForward",
                            "metadata": {"name": "x", "namespace": "demo", "generation": generation}}
    if phase is not None:
        reason = {"Pending": "Unreachable", "Failed": "Forbidden", "Running": "Started"}.get(phase, phase)
        outcome = status.Outcome(phase=phase, reason=reason, message=f"the {phase} message")
        body["status"] = status.render(outcome, generation=observed, previous=None)
    return body


@pytest.mark.parametrize(("phase", "expected"), [
    ("Running", "Healthy"), ("Stopped", "Healthy"), ("Applied", "Healthy"),
    ("Pending", "Progressing"), ("Failed", "Degraded"), (None, "Progressing"),
])
def test_argocd_health_script_on_rendered_statuses(phase: status.Phase | None, expected: str, tmp_path: Path) -> None:
    state, message = health(resource(phase), tmp_path)
    assert state == expected
    if phase is not None:
        assert f"the {phase} message" in message


def test_argocd_health_script_waits_for_the_current_generation(tmp_path: Path) -> None:
    state, message = health(resource("Running", generation=3, observed=2), tmp_path)
    assert state == "Progressing"
    assert "generation 3" in message


# --------------------------------------------------------------------------------------------
# Dockerfile, .dockerignore, overlay


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^(\w+)\s+(.*)$", text, re.M)
            if not m.group(0).lstrip().startswith("#")]


def test_dockerfile_runs_the_console_script_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    entrypoints = [json.loads(value) for name, value in instructions if name == "ENTRYPOINT"]
    assert entrypoints == [["headlamp-operator", "run"]]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["headlamp-operator"] == "headlamp_operator.cli:main"
    users = [value for name, value in instructions if name == "USER"]
    assert len(users) == 1
    uid = users[0].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "USER must be a numeric non-root uid (runAsNonRoot checks numbers)"
    deployment = yaml.safe_load((ROOT / "manifests" / "deployment.yaml").read_text())
    assert int(uid) == deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert "\nUSER " in final_stage and "\nENTRYPOINT " in final_stage


def test_dockerfile_installs_runtime_dependencies_only_on_a_slim_python() -> None:
    instructions = dockerfile_instructions()
    args = dict(value.split("=", 1) for name, value in instructions if name == "ARG" and "=" in value)
    images = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], value.split()[0])
              for name, value in instructions if name == "FROM"]
    for image in images:
        match = re.fullmatch(r"python:3\.(\d+)-slim(-\w+)?", image)
        assert match and int(match.group(1)) >= 11, image
    installs = [value for name, value in instructions if name == "RUN" and "pip install" in value]
    assert len(installs) == 1
    assert re.search(r"pip install( --[\w-]+)* \.(\s|$)", installs[0]), "install the project itself, no extras"
    assert "[" not in installs[0] and " -e " not in installs[0]
    for tool in ("gcc", "build-essential", "apt-get install", "pytest", "kmock", "ruff", "mypy"):
        assert tool not in DOCKERFILE, tool


def test_dockerfile_writes_nothing_outside_tmp_at_run_time() -> None:
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert "HOME=/tmp" in final and "TMPDIR=/tmp" in final and "PYTHONDONTWRITEBYTECODE=1" in final
    assert re.search(r"^WORKDIR /tmp$", final, re.M)


def test_dockerignore_admits_exactly_what_the_dockerfile_copies() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", ".dockerignore must be an allowlist"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for name, value in dockerfile_instructions():
        if name == "COPY" and not value.startswith("--from"):
            copied |= {source.rstrip("/") for source in value.split()[:-1]}
    assert copied == admitted
    for source in copied:
        assert (ROOT / source).exists(), source


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_overlay_example_builds(tmp_path: Path) -> None:
    block = next(text for language, text in fenced_blocks(INSTALL) if language == "yaml" and "my-overlay/" in text)
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    (tmp_path / "my-overlay").mkdir()
    (tmp_path / "my-overlay" / "kustomization.yaml").write_text(block)
    proc = subprocess.run(["kubectl", "kustomize", str(tmp_path / "my-overlay")], capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    overlay = yaml.safe_load(block)
    deployment = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    image = overlay["images"][0]
    assert container["image"] == f"{image['newName']}:{image['newTag']}"
    assert container["env"][0]["name"] == "HEADLAMP_URL"
    assert container["env"][0]["value"] != "http://headlamp.kube-system.svc:80"



# --------------------------------------------------------------------------------------------
# Claims about logs, metrics and the image (issue 11, kind 10)


def test_the_docs_describe_every_log_format_and_claim_none_missing() -> None:
    choices = next(a.choices for a in subparsers()["run"]._actions if a.dest == "run__log_format")
    text = section(OPERATIONS, "Metrics, probes, events and logs")
    for choice in choices or ():
        assert f"`{choice}`" in text, choice
    assert "not available" not in text


def test_the_resource_gauges_are_read_from_what_the_api_shows_as_the_docs_say() -> None:
    """A deleted resource leaves the gauges: they are read at scrape time from the source (a kopf index)."""
    assert "A deleted resource leaves the gauge." in section(OPERATIONS, "Metrics, probes, events and logs")
    shown = {("team-docs", "web"): metrics.Seen(phase="Running", ready="True")}
    metrics.watch("DocsKind", lambda: list(shown.items()))
    try:
        labels = {"kind": "DocsKind", "namespace": "team-docs", "name": "web"}
        get = prometheus_client.REGISTRY.get_sample_value
        assert get("headlamp_operator_resource_ready_status", {**labels, "condition": "True"}) == 1.0
        assert get("headlamp_operator_resource_ready_status", {**labels, "condition": "False"}) == 0.0
        assert get("headlamp_operator_resources", {"kind": "DocsKind", "phase": "Running"}) == 1.0
        shown.clear()
        assert get("headlamp_operator_resource_ready_status", {**labels, "condition": "True"}) is None
        assert get("headlamp_operator_resources", {"kind": "DocsKind", "phase": "Running"}) is None
    finally:
        metrics.RESOURCE_COLLECTOR.sources.pop("DocsKind", None)


def test_make_image_builds_the_tag_the_kustomization_deploys() -> None:
    kustomization = yaml.safe_load((ROOT / "manifests" / "kustomization.yaml").read_text())
    [image] = kustomization["images"]
    [build] = [line for line in makefile_recipe("image") if "docker build" in line]
    assert f"-t {image['newName']}:{image['newTag']} " in build + " "
