"""Fuzz the request planner and the YAML loading path; print counts and any crash.

    .venv/bin/python bench/fuzz.py [--inputs 100000] [--seed 0]

A crash is any exception other than the documented refusal (``InfrawrightError``) from
the planner, or any exception at all from the loader (it must turn bad input into a
``ParseProblem``). Inputs: random word salads over the planner's vocabulary, random
unicode, random bytes, and mutations (bit flips, cuts, duplicated and swapped lines,
stray tabs and anchors) of the example repository's real YAML files. Deterministic for a
seed. Not a test: `make test` does not run it; every crash it finds becomes a test.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from infrawright.catalog import builtin_catalog
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.rules import plan_request
from infrawright.repo.documents import parse_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "local-kube"
WORDS = [
    "install",
    "add",
    "create",
    "remove",
    "delete",
    "uninstall",
    "upgrade",
    "bump",
    "update",
    "set",
    "change",
    "to",
    "for",
    "the",
    "a",
    "monitoring",
    "monitor",
    "alert",
    "alerts",
    "when",
    "within",
    "days",
    "hours",
    "percent",
    "allow",
    "scrape",
    "policy",
    "network",
    "ciliumnetworkpolicy",
    "namespace",
    "component",
    "kustomization",
    "flux",
    "helmrelease",
    "chart",
    "fix",
    "ordering",
    "bootstrap",
    "dependsOn",
    "depends",
    "crds",
    "redis",
    "valkey",
    "cert-manager",
    "kong",
    "metallb",
    "cilium",
    "cloudnative-pg",
    "external-dns",
    "kyverno",
    "1.2.3",
    "v1.19.2",
    "15d",
    "7",
    "latest",
    "../",
    "/",
    ";",
    "&&",
    "|",
    "$(",
    "`",
    "'",
    '"',
    "\\",
    "\x00",
    "\u202e",
    "😀",
    "prometheus",
    "retention",
    "replicas",
    "true",
    "false",
    "--",
    "--repo",
]


def word_salad(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14)))


def random_unicode(rng: random.Random) -> str:
    return "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 80)))


def random_bytes(rng: random.Random) -> str:
    return rng.randbytes(rng.randint(0, 200)).decode("utf-8", errors="replace")


def mutate(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        i = rng.randrange(len(lines))
        if choice == 0:  # flip a character
            line = lines[i]
            if line:
                j = rng.randrange(len(line))
                lines[i] = line[:j] + chr(rng.randint(0, 127)) + line[j + 1 :]
        elif choice == 1:
            lines = lines[: rng.randrange(len(lines) + 1)]  # cut
        elif choice == 2:
            lines.insert(i, lines[i])  # duplicate (duplicate keys)
        elif choice == 3 and len(lines) > 1:
            k = rng.randrange(len(lines))
            lines[i], lines[k] = lines[k], lines[i]
        elif choice == 4:
            lines[i] = "\t" + lines[i]
        elif choice == 5:
            lines.insert(i, "a: &x [*x, *x]\n")  # anchors and aliases
        else:
            lines.insert(i, "--- !custom\n")
        lines = lines or [""]
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    catalog = builtin_catalog()
    facts = RepoFacts.from_model(load_repo(EXAMPLE))
    corpus = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLE.rglob("*.yaml"))]
    counts: Counter[str] = Counter()
    crashes: list[tuple[str, str, str]] = []
    started = time.monotonic()
    for n in range(args.inputs):
        kind = n % 5
        if kind < 2:  # the planner
            text = word_salad(rng) if kind == 0 else random_unicode(rng)
            try:
                plan_request(text, catalog, facts=facts)
                counts["planner: plan"] += 1
            except InfrawrightError:
                counts["planner: refused"] += 1
            except Exception:
                crashes.append(("planner", repr(text), traceback.format_exc(limit=3)))
        else:  # the loader
            text = random_bytes(rng) if kind == 2 else mutate(rng, rng.choice(corpus))
            try:
                parsed = parse_text(text, "fuzz.yaml")
                counts["loader: problem" if parsed.problem else "loader: read"] += 1
            except Exception:
                crashes.append(("loader", repr(text[:200]), traceback.format_exc(limit=3)))
        if n and n % 20_000 == 0:
            print(f"... {n} inputs, {len(crashes)} crash(es)", file=sys.stderr)
    seconds = time.monotonic() - started
    print(f"inputs: {args.inputs} (seed {args.seed}) in {seconds:.1f} s")
    for key, value in sorted(counts.items()):
        print(f"  {key}: {value}")
    print(f"crashes: {len(crashes)}")
    for where, text, trace in crashes[:20]:
        print(f"--- {where}: {text}\n{trace}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
