"""``--planner auto`` (the default): the rule planner when it understands the request,
else the LLM planner when it can be reached — and the same validation and post-conditions
bind a Plan the model writes.

The model is a scripted OpenAI-compatible server on loopback (``--base-url``), spoken to
by the real openai SDK through the real CLI.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode

pytest.importorskip("openai", reason="the llm extra (openai SDK) is part of the dev install")

UNDERSTOOD_BY_NO_RULE = "please set things up the way the platform wiki describes for team zeta"


class Script:
    """Replies to chat-completion requests in order; each reply calls tools or ends."""

    def __init__(self, replies: list[list[tuple[str, dict[str, Any]]] | str]) -> None:
        self.replies = replies
        self.bodies: list[dict[str, Any]] = []

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        index = len(self.bodies)
        self.bodies.append(body)
        reply = self.replies[index] if index < len(self.replies) else "No more steps."
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if isinstance(reply, str):
            message["content"] = reply
        else:
            message["tool_calls"] = [
                {
                    "id": f"call_{index}_{n}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for n, (name, args) in enumerate(reply)
            ]
        return {
            "id": f"chatcmpl-{index}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "m"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop" if isinstance(reply, str) else "tool_calls",
                    "message": message,
                }
            ],
        }


@pytest.fixture
def server() -> Iterator[tuple[str, list[Script]]]:
    scripts: list[Script] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps(scripts[0].answer(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", scripts
    finally:
        httpd.shutdown()
        httpd.server_close()


def _implement(
    capsys: pytest.CaptureFixture[str], root: Path, url: str | None, request: str
) -> tuple[int, dict[str, Any], str]:
    args = ["implement", "--repo", str(root), "--json", "--provider", "openai"]
    args += ["--base-url", url] if url else []
    code = run([*args, request])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return copy_repo(EXAMPLE, tmp_path / "repo")


def test_a_request_the_rules_understand_never_reaches_the_model(
    repo: Path, server: tuple[str, list[Script]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, scripts = server
    scripts.append(Script([]))
    code, report, _err = _implement(capsys, repo, url, "we need metallb")
    assert code == ExitCode.OK
    assert report["status"] == "applied"
    assert scripts[0].bodies == []


def test_a_request_the_rules_do_not_understand_goes_to_the_model(
    repo: Path, server: tuple[str, list[Script]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, scripts = server
    plan = {
        "request": UNDERSTOOD_BY_NO_RULE,
        "ops": [{"op": "add-plain-component", "component": "team-zeta", "namespace": "team-zeta"}],
    }
    scripts.append(Script([[("apply_plan", {"plan": plan})]]))
    code, report, err = _implement(capsys, repo, url, UNDERSTOOD_BY_NO_RULE)
    assert code == ExitCode.OK, err
    assert "The rule planner did not understand it" in err
    assert len(scripts[0].bodies) == 1
    assert report["status"] == "applied"
    assert (repo / "namespaces/team-zeta/kustomization.yaml").is_file()


def test_the_models_plan_is_bound_by_the_same_post_conditions(
    repo: Path, server: tuple[str, list[Script]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, scripts = server
    # The model asks for a second kube-prometheus-stack (the example runs it as monitoring).
    second = {
        "op": "add-helm-component",
        "component": "kps",
        "namespace": "kps",
        "catalog": "kube-prometheus-stack",
        "monitoring": False,
        "chart": {
            "name": "kube-prometheus-stack",
            "repository": "https://prometheus-community.github.io/helm-charts",
            "version": "80.0.0",
        },
    }
    plan = {"request": UNDERSTOOD_BY_NO_RULE, "ops": [second]}
    scripts.append(Script([[("apply_plan", {"plan": plan})], "I give up."]))
    code, report, _err = _implement(capsys, repo, url, UNDERSTOOD_BY_NO_RULE)
    assert code == ExitCode.FINDINGS
    assert report["status"] == "failed"
    # what the model was told about its plan
    tool_result = scripts[0].bodies[1]["messages"][-1]["content"]
    assert "chart kube-prometheus-stack is installed once" in tool_result
    assert not (repo / "namespaces/kps").exists()


def test_without_a_model_a_request_not_understood_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _report, err = _implement(capsys, repo, None, UNDERSTOOD_BY_NO_RULE)
    assert code == ExitCode.USAGE
    assert "not understood" in err
