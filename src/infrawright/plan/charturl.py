"""A chart named by its address in the request itself ("add the app 'orders' from the
chart at oci://ghcr.io/example/charts/orders, tracking 2.x"): what ``--chart`` and
``--version`` say, in words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infrawright.plan.matching import NotUnderstoodError

_URL = re.compile(r"(?P<url>\b(?:oci|https?)://[^\s,;'\"]+)")
#: "tracking 2.x", "version 1.2.3", "at 1.4.0", "pinned to 3.1.0", ">=1.2 <2" after a word.
_VERSION = re.compile(
    r"\b(?:tracking|version|at|pinned\s+to|pin(?:ned)?\s+at|following)\s+"
    r"(?P<v>v?\d+(?:\.(?:\d+|x|\*)){0,2}(?:-[0-9a-z.]+)?)",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"\b(?:app|application|component|service)\s+(?:called\s+|named\s+)?"
    r"['\"‘’“”]?(?P<name>[a-z0-9][a-z0-9-]*)['\"‘’“”]?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ChartInText:
    """The chart's repository, name and version, the component's name, the words left."""

    repository: str
    chart: str
    version: str
    name: str
    rest: str


def chart_in_text(text: str) -> ChartInText | None:
    """The chart a request names by URL, or None when it names none. A URL without a
    version is refused: infrawright pins (or tracks a range of) every chart it writes."""
    found = _URL.search(text)
    if found is None:
        return None
    url = found.group("url").rstrip(".)")
    if "/" not in url.split("://", 1)[1]:
        raise NotUnderstoodError(
            f"{url}: expected REPO_URL/CHART or oci://REGISTRY/PATH/CHART",
            hint="e.g. oci://ghcr.io/example/charts/orders",
        )
    repository, chart = url.rsplit("/", 1)
    version = _VERSION.search(text)
    if version is None:
        raise NotUnderstoodError(
            f"request {text!r}: the chart {url} is named without a version",
            hint=f'say which: "... {url}, version 1.2.3" or "tracking 1.x"',
        )
    named = _NAME.search(text)
    name = named.group("name").lower() if named else chart.lower()
    rest = text
    for span in sorted(
        [found.span(), version.span(), *([named.span()] if named else [])], reverse=True
    ):
        rest = rest[: span[0]] + " " + rest[span[1] :]
    rest = re.sub(r"\bfrom\s+(?:the\s+)?(?:chart\s+)?(?:at\s+)?(?=[\s,]|$)", " ", rest)
    return ChartInText(repository, chart, version.group("v"), name, " ".join(rest.split()))
