"""Changing a repository: the implement pipeline, the copy a change is validated in,
journaled writes, sessions, git."""
