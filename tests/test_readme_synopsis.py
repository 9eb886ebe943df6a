"""The README's command synopsis names every command and option the parser has, and no other.

The synopsis is the first ``sh`` block under "### Synopsis": one line per command, the words
after ``ingest`` up to the first option or argument naming the command (``ingest accounts
add`` for a subcommand of a group). The first line, ``ingest [...] COMMAND``, lists the options
that every command takes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ingest.cli import build_command

README = Path(__file__).resolve().parents[1] / "README.md"
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)")


def synopsis(text: str) -> list[str]:
    section = text.split("### Synopsis", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("ingest")]


def option_names(command: Any) -> set[str]:
    # the help option is not a declared parameter: every command gets the root's names for it
    helps = build_command().context_settings.get("help_option_names", ["--help"])
    return set(helps) | {
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
    }


def leaves(command: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    children = getattr(command, "commands", None)
    if children is None:
        return {path: command}
    found: dict[tuple[str, ...], Any] = {}
    for name, child in children.items():
        found |= leaves(child, (*path, name))
    return found


def documented(lines: list[str]) -> tuple[set[str], dict[tuple[str, ...], set[str]]]:
    """The options of the first (global) line, and per command path the options of its line."""
    root = build_command()
    everywhere = set(OPTION.findall(lines[0]))
    commands: dict[tuple[str, ...], set[str]] = {}
    for line in lines[1:]:
        words = line.split()[1:]
        node, path = root, ()
        while words and words[0] in getattr(node, "commands", {}):
            node = node.commands[words[0]]
            path = (*path, words.pop(0))
        assert path, f"the synopsis line {line!r} names no command"
        assert path not in commands, f"{' '.join(path)} has two synopsis lines"
        commands[path] = set(OPTION.findall(" ".join(words)))
    return everywhere, commands


def check(text: str) -> list[str]:
    """Every difference between the synopsis in ``text`` and the parser, in words."""
    root = build_command()
    lines = synopsis(text)
    everywhere, commands = documented(lines)
    problems = [
        f"global option {o} is not in the synopsis" for o in sorted(option_names(root) - everywhere)
    ]
    problems += [
        f"global option {o} does not exist" for o in sorted(everywhere - option_names(root))
    ]
    tree = leaves(root)
    problems += [
        f"ingest {' '.join(p)} is not in the synopsis" for p in sorted(set(tree) - set(commands))
    ]
    problems += [f"ingest {' '.join(p)} does not exist" for p in sorted(set(commands) - set(tree))]
    for path in sorted(set(tree) & set(commands)):
        shown = " ".join(path)
        has, says = option_names(tree[path]) - everywhere, commands[path]
        problems += [f"ingest {shown} {o} is not in the synopsis" for o in sorted(has - says)]
        problems += [f"ingest {shown} {o} does not exist" for o in sorted(says - has)]
    return problems


def test_the_readme_synopsis_matches_the_parser():
    assert check(README.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace(" [--no-load]", ""), "ingest pull --no-load is not in the synopsis"),
        (
            lambda t: t.replace("[--out FILE]", "[--out FILE] [--pdf]"),
            "ingest report --pdf does not exist",
        ),
        (
            lambda t: re.sub(r"\ningest export [^\n]*", "", t, count=1),
            "ingest export is not in the synopsis",
        ),
        (lambda t: t.replace("ingest validate", "ingest revalidate"), "names no command"),
        (
            lambda t: t.replace(" [-q | --quiet]", ""),
            "global option --quiet is not in the synopsis",
        ),
    ],
)
def test_the_check_sees_a_missing_or_invented_command_or_option(edit, problem):
    text = README.read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text
    try:
        found = check(edited)
    except AssertionError as exc:
        found = [str(exc)]
    assert any(problem in p for p in found), found
