"""The command line's grammar: help, usage errors blamed on the right command, and the
shell completion scripts made from the same command table."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from infrawright.cli import completion
from infrawright.cli.app import HANDLERS, run
from infrawright.cli.parser import COMMANDS, ROOT_OPTIONS
from infrawright.errors import ExitCode


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_a_handler_taking_its_options() -> None:
    import inspect

    assert {c.name for c in COMMANDS} == set(HANDLERS)
    for command in COMMANDS:
        params = set(inspect.signature(HANDLERS[command.name]).parameters)
        dests = set()
        for o in command.options:
            dest = o.extra.get("dest") or o.flags[-1].lstrip("-").replace("-", "_")
            dests.add(dest)
        assert params == dests, command.name


def test_help_lists_the_options_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "validate", "--help")
    assert code == ExitCode.OK
    assert "--crd-dir PATH" in out and "comma-separated rule IDs to skip" in out
    code, out, _ = cli(capsys, "--help")
    assert code == ExitCode.OK and all(c.name in out for c in COMMANDS)


def test_no_command_prints_the_help_and_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys)
    assert code == ExitCode.USAGE and "validate" in out and "usage: infrawright" in out


@pytest.mark.parametrize(
    ("args", "blamed", "message"),
    [
        (["validate", "some/folder"], "infrawright validate", "unrecognized arguments: some"),
        (["validate", "--format", "yaml"], "infrawright validate", "invalid choice: 'yaml'"),
        (["validate", "--rep", "x"], "infrawright validate", "unrecognized arguments: --rep"),
        (["implement", "--max-steps", "0", "x"], "infrawright implement", "0 is less than 1"),
        (["continue"], "infrawright continue", "the following arguments are required"),
        (["nope"], "infrawright", "invalid choice: 'nope'"),
    ],
)
def test_usage_errors_name_the_command_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], blamed: str, message: str
) -> None:
    code, out, err = cli(capsys, *args)
    assert code == ExitCode.USAGE
    assert out == ""
    assert f"usage: {blamed} " in err and f"{blamed}: error: " in err and message in err


def test_implement_infra_is_the_implement_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--help"], prog="implement-infra", only="implement")
    out, _ = capsys.readouterr()
    assert code == ExitCode.OK and out.startswith("usage: implement-infra [-h]")
    assert "--planner {auto,rules,llm}" in out
    code = run(["--bogus"], prog="implement-infra", only="implement")
    _, err = capsys.readouterr()
    assert code == ExitCode.USAGE and "implement-infra: error: unrecognized arguments" in err


def test_the_scripts_cover_every_command_and_option() -> None:
    for shell in completion.SCRIPTS:
        text = completion.script(shell)
        for command in COMMANDS:
            assert command.name in text, (shell, command.name)
            for o in command.options:
                if not o.positional:
                    assert o.flags[-1].lstrip("-") in text, (shell, command.name, o.flags)
        for o in ROOT_OPTIONS:
            assert o.flags[0].lstrip("-") in text


def _bash_complete(words: list[str]) -> list[str]:
    """What the bash script offers for the last of ``words`` (the word being typed)."""
    script = completion.bash()
    quoted = " ".join(f"'{w}'" for w in words)
    program = f"""
{script}
COMP_WORDS=({quoted})
COMP_CWORD={len(words) - 1}
$(complete -p {words[0]} | sed -E 's/.* -F ([^ ]+) .*/\\1/')
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_commands_options_and_choices() -> None:
    assert _bash_complete(["infrawright", "val"]) == ["validate"]
    assert _bash_complete(["infrawright", "--no-cache", "gr"]) == ["graph"]
    assert _bash_complete(["infrawright", "validate", "--for"]) == ["--format"]
    assert _bash_complete(["infrawright", "validate", "--format", ""]) == [
        "text",
        "json",
        "sarif",
        "github",
    ]
    assert _bash_complete(["infrawright", "graph", "--format", "m"]) == ["mermaid"]
    assert _bash_complete(["infrawright", "completion", "f"]) == ["fish"]
    assert _bash_complete(["implement-infra", "--pl"]) == ["--planner"]
    assert _bash_complete(["implement-infra", "--provider", "o"]) == ["openai"]
    # a path: nothing offered, so bash falls back to file names (-o default)
    assert _bash_complete(["infrawright", "validate", "--repo", ""]) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_printed_bash_script_is_valid_bash() -> None:
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from infrawright.cli.app import main; main()",
            "completion",
            "bash",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == completion.bash()
    subprocess.run(["bash", "-n"], input=printed, text=True, check=True)
