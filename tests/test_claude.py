"""install_claude: the slash command, the agent and the MCP server entry, kept in step
with our templates without ever overwriting what the user edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawright.agents import claude
from infrawright.agents.claude import (
    CREATED,
    KEPT,
    UNCHANGED,
    UPDATED,
    install_claude,
    is_pristine,
)
from infrawright.agents.tools import TOOL_NAMES
from infrawright.errors import ExitCode, InfrawrightError

COMMAND = ".claude/commands/implement-infra.md"
AGENT = ".claude/agents/infrastructure-implementor.md"
MCP = ".mcp.json"
BRIEF_TOOLS = (
    "inspect_repo",
    "plan",
    "implement",
    "apply_plan",
    "write_file",
    "validate",
    "finish",
    "discard",
    "explain_rule",
    "graph",
)


def front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n")
    head = text.split("---\n", 2)[1]
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_fresh_install_writes_three_files(tmp_path: Path) -> None:
    result = install_claude(tmp_path)
    assert result == [(COMMAND, CREATED), (AGENT, CREATED), (MCP, CREATED)]
    assert sorted(snapshot(tmp_path)) == sorted([COMMAND, AGENT, MCP])  # no temp files left

    command = (tmp_path / COMMAND).read_text()
    meta = front_matter(command)
    assert meta["description"]
    assert "Bash(implement-infra:*)" in meta["allowed-tools"]
    assert "implement-infra --json" in command
    assert "$ARGUMENTS" in command
    assert "infrawright continue --json --decision" in command
    for field in ("review", "recreate.required", "recreate.command", "session"):
        assert field in command
    assert "infrastructure-implementor" in command
    assert is_pristine(command)

    agent = (tmp_path / AGENT).read_text()
    meta = front_matter(agent)
    assert meta["name"] == "infrastructure-implementor"
    assert meta["description"]
    tools = [t.strip() for t in meta["tools"].split(",")]
    for name in BRIEF_TOOLS:
        assert f"mcp__infrawright__{name}" in tools
        assert f"`{name}`" in agent  # described in the body too
    assert not {"Write", "Edit", "Bash"} & set(tools)  # it cannot write on its own
    assert "REVIEW" in agent
    assert is_pristine(agent)

    data = json.loads((tmp_path / MCP).read_text())
    assert data == {
        "mcpServers": {"infrawright": {"command": "infrawright", "args": ["mcp", "--repo", "."]}}
    }


def test_agent_tools_match_the_tool_set() -> None:
    assert set(claude.MCP_TOOLS) == set(TOOL_NAMES)


def test_rerun_is_unchanged_and_writes_nothing(tmp_path: Path) -> None:
    install_claude(tmp_path)
    before = snapshot(tmp_path)
    stats = {p: (tmp_path / p).stat().st_mtime_ns for p in before}
    result = install_claude(tmp_path)
    assert result == [(COMMAND, UNCHANGED), (AGENT, UNCHANGED), (MCP, UNCHANGED)]
    assert snapshot(tmp_path) == before
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in before} == stats


def test_new_template_updates_pristine_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_claude(tmp_path)
    monkeypatch.setattr(claude, "COMMAND_TEMPLATE", claude.COMMAND_TEMPLATE + "\nNew step.\n")
    result = install_claude(tmp_path)
    assert result == [(COMMAND, UPDATED), (AGENT, UNCHANGED), (MCP, UNCHANGED)]
    text = (tmp_path / COMMAND).read_text()
    assert "New step." in text
    assert is_pristine(text)
    assert install_claude(tmp_path)[0] == (COMMAND, UNCHANGED)


def test_new_mcp_entry_replaces_one_we_wrote_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_claude(tmp_path)
    old = dict(claude.MCP_ENTRY)
    new = {"command": "infrawright", "args": ["mcp", "--repo", ".", "--verbose"]}
    monkeypatch.setattr(claude, "MCP_ENTRY", new)
    monkeypatch.setattr(claude, "PREVIOUS_MCP_ENTRIES", (old,))
    assert install_claude(tmp_path)[2] == (MCP, UPDATED)
    assert json.loads((tmp_path / MCP).read_text())["mcpServers"]["infrawright"] == new


def test_user_edit_is_kept_unless_force(tmp_path: Path) -> None:
    install_claude(tmp_path)
    path = tmp_path / COMMAND
    edited = path.read_text().replace("Keep it short", "Keep it very short")
    path.write_text(edited)
    assert not is_pristine(edited)  # the marker is still there, the hash no longer fits

    result = install_claude(tmp_path)
    assert result == [(COMMAND, KEPT), (AGENT, UNCHANGED), (MCP, UNCHANGED)]
    assert path.read_text() == edited

    result = install_claude(tmp_path, force=True)
    assert result[0] == (COMMAND, UPDATED)
    restored = path.read_text()
    assert "Keep it very short" not in restored
    assert is_pristine(restored)


def test_file_without_marker_is_the_users(tmp_path: Path) -> None:
    path = tmp_path / AGENT
    path.parent.mkdir(parents=True)
    path.write_text("---\nname: infrastructure-implementor\n---\nmy own agent\n")
    result = install_claude(tmp_path)
    assert result == [(COMMAND, CREATED), (AGENT, KEPT), (MCP, CREATED)]
    assert path.read_text().endswith("my own agent\n")
    assert install_claude(tmp_path, force=True)[1] == (AGENT, UPDATED)
    assert is_pristine(path.read_text())


def test_custom_claude_dir(tmp_path: Path) -> None:
    result = install_claude(tmp_path, tmp_path / "elsewhere")
    assert [r[0] for r in result] == [
        "elsewhere/commands/implement-infra.md",
        "elsewhere/agents/infrastructure-implementor.md",
        MCP,
    ]
    assert (tmp_path / "elsewhere" / "commands" / "implement-infra.md").is_file()
    assert not (tmp_path / ".claude").exists()


def test_existing_mcp_json_keeps_other_servers_and_keys(tmp_path: Path) -> None:
    other = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}
    (tmp_path / MCP).write_text(
        json.dumps({"mcpServers": {"github": other}, "note": "keep me"}, indent=4) + "\n"
    )
    result = install_claude(tmp_path)
    assert result[2] == (MCP, UPDATED)
    text = (tmp_path / MCP).read_text()
    data = json.loads(text)
    assert data["note"] == "keep me"
    assert list(data["mcpServers"]) == ["github", "infrawright"]
    assert data["mcpServers"]["github"] == other
    assert data["mcpServers"]["infrawright"] == claude.MCP_ENTRY
    assert '\n    "mcpServers"' in text  # the file's own indentation is kept


def test_mcp_json_without_servers_key(tmp_path: Path) -> None:
    (tmp_path / MCP).write_text("{}\n")
    assert install_claude(tmp_path)[2] == (MCP, UPDATED)
    assert json.loads((tmp_path / MCP).read_text()) == {
        "mcpServers": {"infrawright": claude.MCP_ENTRY}
    }


def test_user_customised_mcp_entry_is_kept_unless_force(tmp_path: Path) -> None:
    custom = {"command": "/opt/iw/bin/infrawright", "args": ["mcp", "--repo", "/srv/infra"]}
    original = json.dumps({"mcpServers": {"infrawright": custom}}) + "\n"
    (tmp_path / MCP).write_text(original)
    assert install_claude(tmp_path)[2] == (MCP, KEPT)
    assert (tmp_path / MCP).read_text() == original
    assert install_claude(tmp_path, force=True)[2] == (MCP, UPDATED)
    assert json.loads((tmp_path / MCP).read_text())["mcpServers"]["infrawright"] == (
        claude.MCP_ENTRY
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"mcpServers": {', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"mcpServers": []}', '"mcpServers"'),
    ],
)
def test_unusable_mcp_json_is_an_error_and_nothing_is_written(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / MCP
    path.write_text(text)
    with pytest.raises(InfrawrightError) as info:
        install_claude(tmp_path)
    assert str(path) in info.value.message
    assert words in info.value.message
    assert info.value.exit_code is ExitCode.USAGE
    assert path.read_text() == text
    assert not (tmp_path / ".claude").exists()


def test_missing_project_root(tmp_path: Path) -> None:
    with pytest.raises(InfrawrightError, match="not a directory"):
        install_claude(tmp_path / "nope")
