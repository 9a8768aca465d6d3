"""The MCP server: the shared tools through the official SDK's client, in process and
over stdio in a real subprocess."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "mcp", reason="the mcp package is not installed: pip install 'infrawright[mcp]'"
)

import anyio
from mcp import Client, StdioServerParameters, stdio_client
from mcp_types import CallToolResult, TextContent

from conftest import EXAMPLE, SHARED, copy_repo
from infrawright.agents.mcp_server import build_server, serve
from infrawright.agents.tools import TOOL_NAMES, Tools
from infrawright.errors import InfrawrightError

CRDS = [SHARED / "crds"] if (SHARED / "crds").is_dir() else []
TIMEOUT = 30  # seconds; a hang fails the test instead of stalling the run


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".infrawright" not in p.parts
    }


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def with_client(repo: Path | list[Path] | None, body: Callable[[Client], Awaitable[None]]) -> None:
    """Run ``body`` against a fresh in-process server, failing (not hanging) on a timeout."""

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            async with Client(build_server(repo, crd_dirs=CRDS)) as client:
                await body(client)

    anyio.run(main)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def test_lists_every_tool_with_its_description_and_schema(repo: Path) -> None:
    expected = {s["name"]: s for s in Tools(repo).schemas()}
    listed: dict[str, Any] = {}

    async def body(client: Client) -> None:
        listed.update({t.name: t for t in (await client.list_tools()).tools})

    with_client(repo, body)
    assert tuple(listed) == TOOL_NAMES
    for name, tool in listed.items():
        want = expected[name]
        assert tool.description == want["description"] != ""
        schema = tool.input_schema
        assert schema["type"] == "object"
        assert sorted(schema.get("required", [])) == sorted(want["parameters"]["required"])
        props = schema["properties"]
        assert set(props) == {*want["parameters"]["properties"], "repo"}
        for param, spec in want["parameters"]["properties"].items():
            assert props[param]["type"] == spec["type"], (name, param)
        assert props["repo"]["default"] is None
    assert listed["implement"].input_schema["properties"]["dry_run"]["default"] is False


def test_inspect_repo_returns_structured_json(repo: Path) -> None:
    async def body(client: Client) -> None:
        result = await client.call_tool("inspect_repo", {})
        assert not result.is_error, text(result)
        data = result.structured_content
        assert data is not None
        assert data["root"] == str(repo.resolve())
        assert data["kustomizations"]["cilium"]["layer"] == 0
        assert data["pending"] == []
        assert '"kustomizations"' in text(result)  # the same JSON as text, for older clients

    with_client(repo, body)


def test_implement_dry_run_reports_a_diff_and_writes_nothing(repo: Path) -> None:
    before = tree(repo)

    async def body(client: Client) -> None:
        result = await client.call_tool(
            "implement", {"request": "we need metallb", "dry_run": True}
        )
        assert not result.is_error, text(result)
        report = result.structured_content
        assert report is not None
        assert report["status"] == "dry-run"
        assert "+++ b/namespaces/metallb/helm-release.yaml" in report["diff"]
        assert "namespaces/metallb/helm-release.yaml" in report["files"]["created"]

    with_client(repo, body)
    assert tree(repo) == before


def test_failing_tools_come_back_as_tool_errors(repo: Path) -> None:
    async def body(client: Client) -> None:
        outside = await client.call_tool("write_file", {"path": "../evil.yaml", "content": "a: 1"})
        assert outside.is_error
        assert text(outside) == "'../evil.yaml': outside the repository"

        rule = await client.call_tool("explain_rule", {"rule_id": "IW003"})
        assert not rule.is_error
        assert text(rule).startswith("IW003:")

        unknown = await client.call_tool("explain_rule", {"rule_id": "IW999"})
        assert unknown.is_error
        assert text(unknown).startswith("unknown rule 'IW999'; rules: IW000")

        # The server survived all of that.
        assert not (await client.call_tool("graph", {})).is_error

    with_client(repo, body)
    assert not (repo.parent / "evil.yaml").exists()


def test_staged_writes_persist_between_calls_per_repo(repo: Path, tmp_path: Path) -> None:
    other = copy_repo(EXAMPLE, tmp_path / "other")
    path = "namespaces/team-a/namespace.yaml"
    content = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"

    async def body(client: Client) -> None:
        staged = await client.call_tool("write_file", {"path": path, "content": content})
        assert not staged.is_error, text(staged)
        read = await client.call_tool("read_file", {"path": path})
        assert text(read) == content
        # Another repository has its own (empty) pending change.
        elsewhere = await client.call_tool("read_file", {"path": path, "repo": str(other)})
        assert elsewhere.is_error
        assert text(elsewhere) == f"{path}: no such file"
        dropped = await client.call_tool("discard", {})
        assert dropped.structured_content == {"discarded": [path]}

    with_client([repo, other], body)
    assert not (repo / path).exists()


def test_no_repository_to_serve_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFRA_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)  # not inside a git repository
    with pytest.raises(InfrawrightError, match="neither --repo nor \\$INFRA_ROOT is set"):
        build_server(None)
    with pytest.raises(InfrawrightError, match="nope: not a directory"):
        build_server([tmp_path / "nope"])


def test_serve_without_the_mcp_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)  # import fails
    with pytest.raises(InfrawrightError) as info:
        serve(None)
    assert info.value.message == "the MCP server needs the mcp package"
    assert info.value.hint == "pip install 'infrawright[mcp]'"


def test_stdio_subprocess_serves_and_exits_cleanly(repo: Path, tmp_path: Path) -> None:
    errlog_path = tmp_path / "server-stderr.txt"
    args = ["--repo", str(repo)] + [a for d in CRDS for a in ("--crd-dir", str(d))]
    script = (
        "import sys; from infrawright.agents.mcp_server import main; "
        f"main({args!r}); print('server exited', file=sys.stderr)"
    )
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", script],
        env={"INFRAWRIGHT_CACHE_DIR": os.environ["INFRAWRIGHT_CACHE_DIR"]},
    )
    names: list[str] = []
    layers: dict[str, int] = {}

    async def main() -> None:
        with errlog_path.open("w") as errlog, anyio.fail_after(TIMEOUT):
            # legacy: the initialize handshake, as MCP hosts do it today
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                names.extend(t.name for t in (await client.list_tools()).tools)
                result = await client.call_tool("graph", {})
                assert not result.is_error, text(result)
                assert result.structured_content is not None
                layers.update(result.structured_content["layers"])

    anyio.run(main)
    stderr = errlog_path.read_text()
    assert tuple(names) == TOOL_NAMES
    assert layers["cilium"] == 0
    assert "Traceback" not in stderr
    assert "server exited" in stderr  # serve() returned on EOF, it was not killed
