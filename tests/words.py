"""What a reader should never see on a rendered surface: code names (snake_case field and metric
names, scenario paths such as ``teams[0].reps``) and numbers in scientific notation."""

from __future__ import annotations

import html
import re

# visible text only: scripts, styles, tags and their attributes go
# (text set as <code> is a field name shown to the technical reader on purpose, e.g. the report's
# glossary of summary.json fields: it is not scanned)
_HIDDEN = re.compile(r"<(script|style|code)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_SNAKE = re.compile(r"(?<![\w./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\[[^\]]*\])?(?:\.[a-z_]+)*"
                    r"(?![\w/\\-]|\.(?:md|html|csv|json|yaml|parquet|svg|png|ipynb|py)\b)")
_PATH = re.compile(r"(?<![\w/])[a-z_]+\[[^\]\s]+\]\.[a-z_]+")
_FILE = re.compile(r"\.(?:md|html|csv|json|yaml|parquet|svg|png|ipynb|py|gz)$")
_SCI = re.compile(r"(?<![\w.])\d(?:\.\d+)?e[+-]?\d+\b", re.I)
#: snake_case words a reader may see: file names shown as such, the CLI's own options
ALLOWED = frozenset({"sla_sim", "sla_sim_runs", "planner_charts", "planner_cache"})


def visible_text(page: str) -> str:
    """The text of an HTML or SVG page as a reader sees it."""
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


def code_words(text: str) -> list[str]:
    """Code names and scientific notation found in ``text`` (already visible text)."""
    found = [m.group(0) for m in _SNAKE.finditer(text)
             if m.group(0) not in ALLOWED and not _FILE.search(m.group(0))]
    found += [m.group(0) for m in _PATH.finditer(text)]
    found += [m.group(0) for m in _SCI.finditer(text)]
    return sorted(set(found))
