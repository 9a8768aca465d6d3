"""``infrawright schemas pull``: download the schemas of the custom kinds a repository
uses and no schema is known for, into the schema cache (:mod:`.pulled`).

The source is a URL template with ``{group}``, ``{kind}`` (lower case), ``{version}`` and
``{plural}`` (the kind's plural as Kubernetes would guess it: lower case, ``-s``/``-es``/
``-ies``). The default is the community CRD catalog that kubeconform users give as
``-schema-location``. A file there may be a JSON schema (what the catalog holds) or a CRD
manifest, YAML or JSON (its ``openAPIV3Schema`` for that version is kept). A 404 (or a
missing ``file://`` file) means "not in the catalog": listed, not an error. Nothing here
runs unless asked: validate never downloads by itself.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from infrawright.errors import InfrawrightError, UsageError
from infrawright.progress import phase
from infrawright.validate import kubernetes, pulled

GVK = tuple[str, str, str]
DEFAULT_SOURCE = (
    "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{group}/{kind}_{version}.json"
)
FIELDS = ("group", "kind", "version", "plural")
TIMEOUT_S = 30.0
MAX_BYTES = 32 * 1024 * 1024


@dataclass
class PullReport:
    """What a pull did, per kind (``group/version/Kind``)."""

    fetched: dict[str, str] = field(default_factory=dict)  # kind -> URL
    missing: dict[str, str] = field(default_factory=dict)  # kind -> URL that answered 404
    failed: dict[str, str] = field(default_factory=dict)  # kind -> "URL: what went wrong"

    @property
    def ok(self) -> bool:
        """False only when something failed and nothing could be fetched."""
        return not self.failed or bool(self.fetched)


def check_template(template: str) -> None:
    """A usage error unless ``template`` is a URL template of the known fields."""
    try:
        template.format(group="g", kind="k", version="v", plural="p")
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"--source {template!r}: not a URL template ({exc})",
            hint="use {group}, {kind}, {version} and {plural}, e.g. " + DEFAULT_SOURCE,
        ) from None
    if "://" not in template:
        raise UsageError(
            f"--source {template!r}: not a URL",
            hint="e.g. " + DEFAULT_SOURCE + " (file:///path/{group}/{kind}_{version}.json works)",
        )


def plural(kind: str) -> str:
    """The plural Kubernetes guesses for a kind (``Ingress`` -> ``ingresses``)."""
    low = kind.lower()
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return low + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"


def url_for(template: str, key: GVK) -> str:
    group, version, kind = key
    return template.format(group=group, kind=kind.lower(), version=version, plural=plural(kind))


def wanted(unchecked: Iterable[str]) -> list[GVK]:
    """The unchecked kinds (``group/version/Kind``) a catalog can have: custom ones
    (a core kind that is unchecked is of an API version Kubernetes removed)."""
    out = []
    for label in unchecked:
        api_version, _, kind = label.rpartition("/")
        group, _, version = api_version.rpartition("/")
        if kubernetes.may_be_custom(group):
            out.append((group, version, kind))
    return sorted(set(out))


def pull(
    kinds: Iterable[GVK],
    template: str = DEFAULT_SOURCE,
    say: Callable[[str], None] | None = None,
) -> PullReport:
    """Download the schema of each kind into the schema cache; see :class:`PullReport`."""
    check_template(template)
    todo = list(kinds)
    report = PullReport()
    with phase("schemas pull", total=len(todo)) as step:
        for i, key in enumerate(todo, 1):
            label = f"{key[0]}/{key[1]}/{key[2]}"
            url = url_for(template, key)
            try:
                body = fetch(url)
                if body is None:
                    report.missing[label] = url
                    outcome = "not in the catalog"
                else:
                    schema = parse(body, key, url)
                    pulled.save(key, schema, url)
                    report.fetched[label] = url
                    outcome = "fetched"
            except InfrawrightError as exc:
                report.failed[label] = exc.message
                outcome = f"failed: {exc.message}"
            if say:
                say(f"[{i}/{len(todo)}] {label}: {outcome} ({url})")
            step.advance()
    return report


def fetch(url: str) -> bytes | None:
    """The body at ``url``; None for a 404 (or a ``file://`` that does not exist). Other
    failures are errors naming the URL."""
    request = urllib.request.Request(url, headers={"User-Agent": "infrawright"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise InfrawrightError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            return None
        raise InfrawrightError(f"{url}: {_reason(exc.reason)}") from None
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed URL
        raise InfrawrightError(f"{url}: {_reason(exc)}") from None
    if len(body) > MAX_BYTES:
        raise InfrawrightError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    return body


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower() if reason.strerror else str(reason)
    return str(reason)


def parse(body: bytes, key: GVK, url: str) -> dict[str, Any]:
    """The JSON schema of ``key`` in a downloaded file: the file itself when it is a JSON
    schema, else the ``openAPIV3Schema`` of that version in a CRD manifest (YAML or JSON,
    several documents allowed)."""
    text = body.decode("utf-8", errors="replace")
    try:
        docs: list[Any] = [json.loads(text)]
    except ValueError:
        try:
            docs = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as exc:
            raise InfrawrightError(f"{url}: neither JSON nor YAML ({exc})") from None
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
            schema = _crd_schema(doc, key)
            if schema is not None:
                return schema
        elif isinstance(doc, dict) and ("properties" in doc or "type" in doc):
            return doc
    group, version, kind = key
    raise InfrawrightError(
        f"{url}: holds neither a JSON schema nor a CRD with {kind} {version} of {group}"
    )


def _crd_schema(doc: dict[str, Any], key: GVK) -> dict[str, Any] | None:
    group, version, kind = key
    spec = doc.get("spec") or {}
    if not isinstance(spec, dict) or spec.get("group") != group:
        return None
    if (spec.get("names") or {}).get("kind") != kind:
        return None
    for entry in spec.get("versions") or []:
        if isinstance(entry, dict) and entry.get("name") == version:
            schema = (entry.get("schema") or {}).get("openAPIV3Schema")
            return schema if isinstance(schema, dict) else None
    return None
