"""The MCP server reaches only the repositories it was started for, spoken to over stdio as
any MCP client does: a `repo` outside the served roots, a symlink out of one, a relative
path that climbs out, each refused with nothing read and nothing written; `read_file`
returns only files of the Flux tree."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

pytest.importorskip(
    "mcp", reason="the mcp package is not installed: pip install 'infrawright[mcp]'"
)

import anyio
from mcp import Client, StdioServerParameters, stdio_client
from mcp_types import CallToolResult, TextContent

from conftest import EXAMPLE, copy_repo

TIMEOUT = 60  # seconds; a hang fails the test instead of stalling the run
SECRET = "top-secret-token-value"
CLUSTER_FILE = "clusters/local-kube/infrastructure.yaml"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and ".git" not in p.parts
    }


def over_stdio(
    repos: list[Path], cwd: Path, body: Callable[[Client], Awaitable[None]], tmp_path: Path
) -> str:
    """Run ``body`` against ``infrawright mcp --repo ...`` in a subprocess; its stderr."""
    args = ["mcp", *(a for r in repos for a in ("--repo", str(r)))]
    script = "import sys; from infrawright.cli.app import main; main(sys.argv[1:])"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", script, *args],
        env={"INFRAWRIGHT_CACHE_DIR": os.environ["INFRAWRIGHT_CACHE_DIR"]},
        cwd=cwd,
    )
    errlog_path = tmp_path / "server-stderr.txt"

    async def main() -> None:
        with errlog_path.open("w") as errlog, anyio.fail_after(TIMEOUT):
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                await body(client)

    anyio.run(main)
    return errlog_path.read_text()


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two served repositories and a folder beside them that must stay out of reach (a
    symlink in the first repository points at it)."""
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    other = copy_repo(EXAMPLE, tmp_path / "other")
    outside = tmp_path / "outside"
    (outside / "namespaces" / "team-a").mkdir(parents=True)
    (outside / "secret.yaml").write_text(f"token: {SECRET}\n")
    (outside / "clusters").mkdir()
    (repo / "escape").symlink_to(outside, target_is_directory=True)
    (repo / "secret-link.yaml").symlink_to(outside / "secret.yaml")
    # Files a Flux tree holds beside YAML, and one it does not.
    extras = repo / "extras"
    extras.mkdir()
    (extras / "README.md").write_text("# extras\n")
    (extras / "settings.conf").write_text("level=debug\n")
    (extras / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (extras / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "configMapGenerator:\n  - name: settings\n    files: [settings.conf]\n"
    )
    return repo, other, outside


def test_calls_outside_the_served_roots_are_refused(
    served: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    repo, other, outside = served
    before = files_of(outside)
    answers: dict[str, CallToolResult] = {}
    descriptions: list[str] = []

    async def body(client: Client) -> None:
        tools = (await client.list_tools()).tools
        descriptions.extend(t.input_schema["properties"]["repo"]["description"] for t in tools)
        calls: dict[str, tuple[str, dict[str, object]]] = {
            "etc": ("read_file", {"repo": "/etc", "path": "passwd"}),
            "root": ("inspect_repo", {"repo": "/"}),
            "outside": ("read_file", {"repo": str(outside), "path": "secret.yaml"}),
            "symlinked": ("read_file", {"repo": str(repo / "escape"), "path": "secret.yaml"}),
            "relative": ("read_file", {"repo": "../outside", "path": "secret.yaml"}),
            "dotted": ("read_file", {"repo": f"{repo}/../outside", "path": "secret.yaml"}),
            "file link": ("read_file", {"path": "secret-link.yaml"}),
            "write": (
                "write_file",
                {"repo": str(outside), "path": "namespaces/team-a/ns.yaml", "content": NAMESPACE},
            ),
            "write via link": (
                "write_file",
                {"repo": str(repo / "escape"), "path": "namespaces/team-a/ns.yaml", "content": ""},
            ),
            "finish": ("finish", {"repo": str(outside), "summary": "x"}),
            "validate": ("validate", {"repo": str(outside)}),
            "script": ("read_file", {"path": "extras/run.sh"}),
            "hidden": ("read_file", {"path": ".git/config"}),
            # What is allowed: the served roots, a folder inside one, the Flux tree's files.
            "other": ("read_file", {"repo": str(other), "path": CLUSTER_FILE}),
            "inside": ("read_file", {"repo": str(repo / "extras"), "path": "README.md"}),
            "dot": ("read_file", {"repo": ".", "path": "extras/README.md"}),
            "generator input": ("read_file", {"path": "extras/settings.conf"}),
        }
        for name, (tool, arguments) in calls.items():
            answers[name] = await client.call_tool(tool, arguments)

    # A root given twice is served once; relative paths are taken from the first root, not
    # from the server's working directory.
    stderr = over_stdio([repo, repo, other], tmp_path, body, tmp_path)
    assert "Traceback" not in stderr

    roots = f"{repo}, {other}"
    for name in ("etc", "root", "outside", "symlinked", "relative", "dotted", "write"):
        assert answers[name].is_error, name
        message = text(answers[name])
        assert "not a repository this server serves" in message, (name, message)
        assert message.endswith(
            f"it serves {roots}. Start the server with --repo for each repository it may use."
        )
    for name in ("write via link", "finish", "validate"):
        assert answers[name].is_error, name
        assert "not a repository this server serves" in text(answers[name])
    assert "outside the repository" in text(answers["file link"])
    assert answers["script"].is_error
    assert text(answers["script"]).startswith("extras/run.sh: not readable")
    assert text(answers["hidden"]) == ".git/config: hidden files and folders are not readable"
    for answer in answers.values():
        assert SECRET not in text(answer) and "root:x:0:0" not in text(answer)

    assert not answers["other"].is_error and "kind: Kustomization" in text(answers["other"])
    assert text(answers["inside"]) == "# extras\n"
    assert text(answers["dot"]) == "# extras\n"
    assert text(answers["generator input"]) == "level=debug\n"

    assert files_of(outside) == before  # nothing written outside
    assert not (repo / "namespaces" / "team-a").exists()
    assert set(descriptions) == {
        f"repository root: one of {roots}, or a folder inside one (a relative path is taken "
        f"from {repo}); default {repo}"
    }


def test_the_default_root_is_the_git_root_of_the_working_directory(
    served: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    repo, other, _outside = served
    answers: list[CallToolResult] = []

    async def body(client: Client) -> None:
        answers.append(await client.call_tool("inspect_repo", {}))
        answers.append(await client.call_tool("inspect_repo", {"repo": str(other)}))

    over_stdio([], repo / "namespaces", body, tmp_path)
    assert not answers[0].is_error, text(answers[0])
    assert answers[0].structured_content is not None
    assert answers[0].structured_content["root"] == str(repo.resolve())
    assert answers[1].is_error
    assert text(answers[1]).endswith(
        f"it serves {repo}. Start the server with --repo for each repository it may use."
    )
