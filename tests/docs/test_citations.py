"""Every reference the code makes resolves: ``docs/PAGE.md#anchor`` names a page and a heading that exist.

The runtime explains a rule by pointing at the section of the project's own docs that states it
(docs/headlamp-backend.md for the wire, docs/portforward.md and the other pages for behaviour), never
at a document outside the repository: the SPEC and HEADLAMP_CONTRACT.md the project started from are
not in it, so a reader could not follow them.
"""
from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
CITATION = re.compile(r"\bdocs/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?")
OUTSIDE = re.compile(r"\bSPEC(?:\.md)?(?: section)? ?[0-9]|HEADLAMP_CONTRACT\.md|\bthe seeds?'?s?\b")
SOURCES = ("operator", "testing", "bench", "tests")


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


def test_slugs_are_those_of_a_rendered_page() -> None:
    assert slug("The request layer and Headlamp's frontend") == "the-request-layer-and-headlamps-frontend"
    assert slug("Conditions and `kubectl wait`") == "conditions-and-kubectl-wait"
    assert slug("Metrics, probes, events and logs") == "metrics-probes-events-and-logs"


@pytest.mark.parametrize("path", python_files(*SOURCES), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_citation_of_the_code_resolves(path: pathlib.Path) -> None:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for page, anchor in CITATION.findall(line):
            target = ROOT / "docs" / page
            assert target.is_file(), f"{path.relative_to(ROOT)}:{number}: docs/{page} does not exist"
            assert not anchor or anchor in anchors(target), \
                f"{path.relative_to(ROOT)}:{number}: docs/{page} has no heading for #{anchor}"


@pytest.mark.parametrize("path", python_files("operator"), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_runtime_cites_nothing_outside_the_repository(path: pathlib.Path) -> None:
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
