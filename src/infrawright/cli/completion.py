"""Shell completion scripts, made from the command table in :mod:`infrawright.cli.parser`.

``infrawright completion bash|zsh|fish`` prints a script for the shell to load (the way
kubectl and gh do it): commands, their options, the values of options with a fixed set
of choices, and file names where an option takes a path. zsh loads the bash script
through its ``bashcompinit`` layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from infrawright.cli.parser import COMMANDS, ROOT_OPTIONS, Command, Opt

#: (executable, the command it runs, or None for the whole tool)
PROGRAMS = (("infrawright", None), ("implement-infra", "implement"))


def _flags(options: Sequence[Opt]) -> list[str]:
    return [f for o in options if not o.positional for f in o.flags] + ["--help"]


def _function(prog: str) -> str:
    return "_" + prog.replace("-", "_")


def _choices_case(options: Sequence[Opt], indent: str) -> list[str]:
    """bash ``case`` arms completing the value of an option right after it."""
    lines = []
    for o in options:
        if o.positional or not o.takes_value:
            continue
        pattern = "|".join(o.flags)
        if o.choices:
            words = " ".join(o.choices)
            lines.append(
                f'{indent}{pattern}) COMPREPLY=($(compgen -W "{words}" -- "$cur")); return;;'
            )
        else:  # a path or free text: let the shell complete file names
            lines.append(f"{indent}{pattern}) COMPREPLY=(); return;;")
    return lines


def _positional_words(command: Command) -> str:
    return " ".join(c for o in command.options if o.positional for c in o.choices)


def bash() -> str:
    out = ["# infrawright completion for bash (and zsh through bashcompinit)"]
    names = " ".join(c.name for c in COMMANDS)
    out += [
        f"{_function('infrawright')}() {{",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '  local cmd="" i',
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break;; esac',
        "  done",
        '  if [[ -z "$cmd" ]]; then',
        f'    COMPREPLY=($(compgen -W "{" ".join(_flags(ROOT_OPTIONS))} {names}" -- "$cur"))',
        "    return",
        "  fi",
        '  _infrawright_command "$cmd" "$cur" "$prev"',
        "}",
        "",
        "_infrawright_command() {",
        '  local cmd="$1" cur="$2" prev="$3"',
        '  case "$cmd" in',
    ]
    for command in COMMANDS:
        out.append(f"    {command.name})")
        arms = _choices_case(command.options, "        ")
        if arms:
            out += ['      case "$prev" in', *arms, "      esac"]
        words = " ".join([*_flags(command.options), _positional_words(command)]).strip()
        out.append(f'      COMPREPLY=($(compgen -W "{words}" -- "$cur"));;')
    out += [
        "  esac",
        "}",
        "",
        f"{_function('implement-infra')}() {{",
        '  _infrawright_command implement "${COMP_WORDS[COMP_CWORD]}" '
        '"${COMP_WORDS[COMP_CWORD-1]}"',
        "}",
        "",
    ]
    out += [f"complete -o default -F {_function(prog)} {prog}" for prog, _cmd in PROGRAMS]
    return "\n".join(out) + "\n"


def zsh() -> str:
    return (
        "# infrawright completion for zsh (through bash's completion layer)\n"
        "autoload -U +X compinit && compinit\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash()
    )


def _fish_option(prog: str, condition: str, o: Opt) -> str:
    parts = [f"complete -c {prog}"]
    if condition:
        parts.append(f"-n '{condition}'")
    for flag in o.flags:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if o.choices:
        parts.append(f"-x -a '{' '.join(o.choices)}'")
    elif o.takes_value:
        parts.append("-r -F" if o.is_path else "-x")
    help_text = o.help.replace("'", "\\'")
    parts.append(f"-d '{help_text}'")
    return " ".join(parts)


def fish() -> str:
    out = ["# infrawright completion for fish", "complete -c infrawright -f"]
    for o in ROOT_OPTIONS:
        out.append(_fish_option("infrawright", "__fish_use_subcommand", o))
    for command in COMMANDS:
        help_text = command.help.replace("'", "\\'")
        out.append(
            f"complete -c infrawright -n '__fish_use_subcommand' -a {command.name} -d '{help_text}'"
        )
        seen = f"__fish_seen_subcommand_from {command.name}"
        for o in command.options:
            if o.positional:
                if o.choices:
                    out.append(f"complete -c infrawright -n '{seen}' -a '{' '.join(o.choices)}'")
                continue
            out.append(_fish_option("infrawright", seen, o))
    implement = next(c for c in COMMANDS if c.name == "implement")
    out.append("complete -c implement-infra -f")
    out += [_fish_option("implement-infra", "", o) for o in implement.options if not o.positional]
    return "\n".join(out) + "\n"


SCRIPTS = {"bash": bash, "zsh": zsh, "fish": fish}


def script(shell: str) -> str:
    return SCRIPTS[shell]()
