"""The shared tools (:mod:`infrawright.agents.tools`) as an MCP server on stdio.

Every tool of :data:`~infrawright.agents.tools.TOOL_NAMES` is exposed under its own name,
with its docstring as description and its parameters as input schema, plus an optional
``repo`` argument. The server serves only the repositories it was started for (each
``--repo``; default the git root of the working directory): a ``repo`` must resolve,
symlinks followed, to one of them or to a folder inside one, else the call is refused
before anything is read. One :class:`~infrawright.agents.tools.Tools` instance is kept
per repository, so a change staged by ``write_file`` is still pending at the next call.
A tool that fails comes back as an MCP tool error (``isError``) carrying its message;
nothing a client sends can stop the server.

The ``mcp`` package is optional (``pip install 'infrawright[mcp]'``): it is imported only
when a server is built, and building one configures logging (on stderr).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import threading
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

import infrawright
from infrawright.agents.tools import TOOL_NAMES, Tools
from infrawright.errors import InfrawrightError
from infrawright.model.loader import find_root

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp_types import CallToolResult

SERVER_NAME = "infrawright"
INSTRUCTIONS = (
    "Tools for a Flux GitOps repository. Start with inspect_repo. `implement` runs the whole "
    "pipeline for a request in plain words (use dry_run to see the diff first); `plan` and "
    "`apply_plan` work with an explicit Plan. To write files yourself: write_file stages "
    "them, validate checks the staged tree, finish applies the change only when it adds no "
    "finding, discard drops it. Every tool takes an optional `repo`: one of the "
    "repositories this server serves ({roots}), or a folder inside one; by default the first."
)


def _repo_description(roots: Sequence[Path]) -> str:
    listed = ", ".join(str(r) for r in roots)
    return (
        f"repository root: one of {listed}, or a folder inside one (a relative path is "
        f"taken from {roots[0]}); default {roots[0]}"
    )


def served_roots(repos: Sequence[Path]) -> tuple[Path, ...]:
    """The repositories a server serves: each of ``repos`` resolved (symlinks followed),
    a root given twice kept once; none given: ``$INFRA_ROOT``, else the git root of the
    working directory."""
    if not repos:
        return (find_root(None),)
    roots: list[Path] = []
    for repo in repos:
        root = find_root(repo)
        if root not in roots:
            roots.append(root)
    return tuple(roots)


def _require_mcp() -> None:
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError:
        raise InfrawrightError(
            "the MCP server needs the mcp package", hint="pip install 'infrawright[mcp]'"
        ) from None


class _Registry:
    """The served roots, and one :class:`Tools` per repository used, each used by one
    call at a time."""

    def __init__(self, roots: Sequence[Path], crd_dirs: list[Path]) -> None:
        self.roots = tuple(roots)
        self.crd_dirs = crd_dirs
        self._tools: dict[Path, tuple[Tools, threading.Lock]] = {}
        self._guard = threading.Lock()

    def resolve(self, repo: str | None) -> Path | str:
        """The repository a call's ``repo`` names, or why it is refused. Nothing is read
        before the path is known to be inside a served root."""
        if not repo:
            return self.roots[0]
        path = Path(repo).expanduser()
        real = Path(os.path.realpath(path if path.is_absolute() else self.roots[0] / path))
        if not any(real == root or real.is_relative_to(root) for root in self.roots):
            served = ", ".join(str(r) for r in self.roots)
            return (
                f"{repo}: not a repository this server serves (the repo argument); it serves "
                f"{served}. Start the server with --repo for each repository it may use."
            )
        if not real.is_dir():
            return f"{repo}: not a directory (the repo argument)"
        return real

    def call(self, name: str, repo: str | None, arguments: dict[str, Any]) -> tuple[bool, Any]:
        root = self.resolve(repo)
        if isinstance(root, str):
            return False, root
        with self._guard:
            if root not in self._tools:
                self._tools[root] = (Tools(root, crd_dirs=self.crd_dirs), threading.Lock())
            tools, lock = self._tools[root]
        # Tools run on worker threads; one repository's staged change is not shared state
        # two calls may touch at once.
        with lock:
            return tools.call(name, arguments)


def _result(ok: bool, value: Any) -> CallToolResult:
    from mcp_types import CallToolResult, TextContent

    if not ok:
        return CallToolResult(content=[TextContent(type="text", text=str(value))], is_error=True)
    if isinstance(value, str):
        return CallToolResult(content=[TextContent(type="text", text=value)])
    text = json.dumps(value, indent=2, default=str)
    structured = json.loads(text)  # plain JSON types only, whatever the tool returned
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured if isinstance(structured, dict) else None,
    )


def _description(name: str) -> str:
    return " ".join((getattr(Tools, name).__doc__ or "").split())


def _signature(name: str, roots: Sequence[Path]) -> inspect.Signature:
    """The method's parameters (annotations evaluated) plus ``repo``."""
    from mcp_types import CallToolResult

    method = getattr(Tools, name)
    hints = typing.get_type_hints(method)
    params = [
        param.replace(annotation=hints[param.name])
        for param in inspect.signature(method).parameters.values()
        if param.name != "self"
    ]
    repo_arg = Annotated[str | None, Field(description=_repo_description(roots))]
    params.append(
        inspect.Parameter(
            "repo", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=repo_arg
        )
    )
    return inspect.Signature(params, return_annotation=CallToolResult)


def _tool_function(registry: _Registry, name: str) -> Callable[..., CallToolResult]:
    def run(**arguments: Any) -> CallToolResult:
        repo = arguments.pop("repo", None)
        try:
            return _result(*registry.call(name, repo, arguments))
        except Exception as exc:  # the boundary: a client gets an error result, never a crash
            return _result(False, f"{name}: internal error ({type(exc).__name__}: {exc})")

    run.__name__ = run.__qualname__ = name
    run.__doc__ = _description(name)
    run.__signature__ = _signature(name, registry.roots)  # type: ignore[attr-defined]
    return run


def build_server(
    repos: Path | Sequence[Path] | None, *, crd_dirs: list[Path] | None = None
) -> MCPServer:
    """An MCP server exposing the tools for the repositories ``repos`` (see
    :func:`served_roots`; the first is the default)."""
    _require_mcp()
    from mcp.server.mcpserver import MCPServer

    given = [repos] if isinstance(repos, Path) else list(repos or [])
    registry = _Registry(served_roots(given), list(crd_dirs or []))
    roots = ", ".join(str(r) for r in registry.roots)
    server: MCPServer = MCPServer(
        SERVER_NAME,
        version=infrawright.__version__,
        instructions=INSTRUCTIONS.format(roots=roots),
        log_level="WARNING",
    )
    for name in TOOL_NAMES:
        server.add_tool(_tool_function(registry, name), name=name, description=_description(name))
    return server


def serve(repos: Path | Sequence[Path] | None, crd_dirs: list[Path] | None = None) -> None:
    """Run the MCP server on stdin/stdout until the client closes the connection."""
    build_server(repos, crd_dirs=crd_dirs).run("stdio")


def main(argv: list[str] | None = None) -> None:
    """``python -m infrawright.agents.mcp_server [--repo PATH]... [--crd-dir DIR]...``"""
    parser = argparse.ArgumentParser(prog="infrawright-mcp", description=serve.__doc__)
    parser.add_argument("--repo", type=Path, action="append", default=[])
    parser.add_argument("--crd-dir", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    serve(args.repo, crd_dirs=args.crd_dir)


if __name__ == "__main__":
    main()
