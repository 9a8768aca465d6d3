"""Integrations with other tools (Claude Code: a slash command, an agent, the MCP server)."""
