"""Every reference the repository makes resolves: ``docs/PAGE.md#anchor`` names a page and a heading that exist.

The code, the test kit, the benchmark, the tests and the pages explain a rule by pointing at the section of
the project's own docs that states it (docs/headlamp-backend.md for the wire, docs/portforward.md and the
other pages for behaviour), never at a document outside the repository: the SPEC and HEADLAMP_CONTRACT.md
the project started from are not in it, so a reader could not follow them, and "the seed" (the TypeScript
code the request layer mirrors) is called Headlamp's frontend. Relative links between the pages
(``portforward.md#start``, ``#retries``) are citations too.
"""
from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
THIS = pathlib.Path(__file__).resolve()
CITATION = re.compile(r"\bdocs/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?")
LINK = re.compile(r"\]\(((?:[^)\s#:]+\.md)?)(?:#([^)\s]+))?\)")  # a relative link of a page: to a page, an anchor
OUTSIDE = re.compile(r"\bSPEC\.md\b|\bSPEC(?: section)? ?[0-9]|\bHEADLAMP_CONTRACT\b|\bthe seeds?'?s?\b")
CODE = ("operator", "testing", "bench", "tests")
PAGES = ("README.md", "bench/README.md", "tests/harness/e2e/README.md", "docs/*.md")
TRANSCRIPTS = ("tests/kit/headlamp/transcripts/*.json",)
MANIFESTS = ("manifests/**/*.yaml", "charts/**/*.yaml", "Dockerfile", "Makefile")  # their comments cite too



def slug(heading: str) -> str:
    """The anchor a heading gets on a rendered Markdown page: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: pathlib.Path) -> set[str]:
    """Every anchor of a docs page (headings outside code blocks)."""
    found, fenced = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^#+ (.+)$", line)):
            found.add(slug(match.group(1)))
    return found


def python_files(*roots: str) -> list[pathlib.Path]:
    return sorted(path for root in roots for path in (ROOT / root).rglob("*.py") if "__pycache__" not in path.parts)


def matching(*patterns: str) -> list[pathlib.Path]:
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


def relative(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def citations(path: pathlib.Path) -> list[tuple[int, pathlib.Path, str]]:
    """Every page a file cites, with the anchor (or ""): ``docs/PAGE.md#anchor`` anywhere, and on a Markdown
    page its relative links to pages or anchors outside code blocks (``[retries](status.md#retries)``)."""
    found, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        found += [(number, ROOT / "docs" / page, anchor) for page, anchor in CITATION.findall(line)]
        if path.suffix != ".md":
            continue
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            found += [(number, (path.parent / page).resolve() if page else path, anchor)
                      for page, anchor in LINK.findall(line)]
    return found


CITING = python_files(*CODE) + matching(*PAGES, *TRANSCRIPTS, *MANIFESTS)


def test_slugs_are_those_of_a_rendered_page() -> None:
    assert slug("The request layer and Headlamp's frontend") == "the-request-layer-and-headlamps-frontend"
    assert slug("Conditions and `kubectl wait`") == "conditions-and-kubectl-wait"
    assert slug("Metrics, probes, events and logs") == "metrics-probes-events-and-logs"


def test_the_files_cited_are_the_code_the_pages_the_transcripts_and_the_manifests() -> None:
    cited = {relative(path) for path in CITING}
    assert {"operator/headlamp_operator/cli.py", "testing/headlamp_operator_testing/process.py", "bench/run.py",
            "tests/install/test_citations.py", "README.md", "bench/README.md", "tests/harness/e2e/README.md",
            "docs/headlamp-backend.md", "tests/kit/headlamp/transcripts/headlamp-v0.45.0.json",
            "manifests/rbac.yaml", "charts/headlamp-operator/crds/portforwards.yaml"} <= cited


def test_relative_links_of_a_page_are_citations() -> None:
    page = ROOT / "docs" / "development.md"
    assert (ROOT / "docs" / "status.md", "retries") in {(target, anchor) for _, target, anchor in citations(page)}
    assert (page, "the-recorded-transcript") in {(target, anchor) for _, target, anchor in citations(page)}


@pytest.mark.parametrize("path", CITING, ids=relative)
def test_every_citation_resolves(path: pathlib.Path) -> None:
    for number, target, anchor in citations(path):
        assert target.is_file(), f"{relative(path)}:{number}: {target} does not exist"
        assert not anchor or anchor in anchors(target), \
            f"{relative(path)}:{number}: {relative(target)} has no heading for #{anchor}"


@pytest.mark.parametrize("path", [path for path in CITING if path.resolve() != THIS], ids=relative)
def test_nothing_cites_outside_the_repository(path: pathlib.Path) -> None:
    cited = [f"{number}: {line.strip()}" for number, line in enumerate(path.read_text().splitlines(), 1)
             if OUTSIDE.search(line)]
    assert cited == [], "cite a section of docs/ instead:\n" + "\n".join(cited)


MEASUREMENT = re.compile(r"\b[0-9]+(?:\.[0-9]+)? ?(?:MB|ms)\b|% (?:of )?(?:a burst's )?CPU|py-spy|make bench"
                         r"|issue [0-9]+")


@pytest.mark.parametrize("path", python_files("operator"), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_runtime_comment_quotes_a_measurement_or_history(path: pathlib.Path) -> None:
    """Results belong in bench/README.md, reasons in commit messages: a figure in a comment goes stale unseen."""
    quoted = [f"{number}: {line.strip()}" for number, line in enumerate(path.read_text().splitlines(), 1)
              if MEASUREMENT.search(line)]
    assert quoted == [], "\n".join(quoted)
