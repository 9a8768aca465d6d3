"""Agents: the one tool set, the LLM planner, the MCP server and the Claude Code files."""
