"""Build ``docs/cli.md`` from the commands' own ``--help`` text, so the two cannot drift.

    python -m mltrail.cli.reference docs/cli.md          # rewrite the page
    python -m mltrail.cli.reference --check docs/cli.md  # exit 1 if it is stale

Help is rendered 80 columns wide, which is what ``COLUMNS=80 mltrail ... --help`` prints.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

HELP_WIDTH = 80

INTRO = """\
# Command-line reference

<!-- Generated from `--help` by `python -m mltrail.cli.reference docs/cli.md`.
     Do not edit by hand: tests/cli/test_docs.py fails when this page and `--help` differ. -->

`mltrail` works on the tracking store named by `--tracking-uri`, else by the
`MLTRAIL_TRACKING_URI` or `MLFLOW_TRACKING_URI` environment variable, else by `./mltrail.db`
(an embedded SQLite file in the working folder). `python -m mltrail` is the same command.

- **Output.** Commands print tables for people. With `--json` they print one JSON document
  with a fixed shape instead: lists come as `{"experiments": [...], "next_page_token": ...}`,
  `{"runs": [...], ...}` or `{"files": [...]}`; a run as `{"info": {...}, "data": {"params",
  "metrics", "tags"}}`; NaN and infinite metric values as the strings `"NaN"`, `"Infinity"`
  and `"-Infinity"`.
- **Errors.** A failure prints one sentence starting with `Error:` on standard error and exits
  with code 1 (for example an unknown experiment, a malformed tracking URI or a bad filter).
  A command used wrongly (a missing or unknown option) exits with code 2. Set
  `MLTRAIL_DEBUG=1` to see the traceback of an unexpected error.
- **Model registry.** `mltrail registry` registers a model from a run (`register --run-id ID
  --path model -n NAME`, or `-m runs:/...`), lists registered models (`list`), shows one with
  all its versions (`describe -n NAME`), lists versions (`versions`) and moves aliases
  (`set-alias` / `delete-alias`). With `--json`: `{"registered_models": [...],
  "next_page_token": ...}` and `{"model_versions": [...]}`; versions are strings, as in
  MLflow's API. See docs/registry.md.
"""


def render(root: click.Command | None = None) -> str:
    """The whole reference page as Markdown."""
    if root is None:
        from mltrail.cli import main

        root = main
    parts = [INTRO]
    for path, command, ctx in _walk(root, "mltrail", None):
        level = "#" * min(2 + path.count(" "), 4)
        parts.append(f"{level} `{path}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def _walk(
    command: click.Command, name: str, parent: click.Context | None
) -> Iterator[tuple[str, click.Command, click.Context]]:
    # make_context applies the command's context_settings (e.g. -h) as a real run does;
    # resilient parsing skips the checks of required options.
    ctx = command.make_context(
        name,
        [],
        parent=parent,
        resilient_parsing=True,
        terminal_width=HELP_WIDTH - 2,  # what click itself makes of an 80-column terminal
        max_content_width=HELP_WIDTH,
    )
    yield ctx.command_path, command, ctx
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, sub_name, ctx)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        sys.stderr.write("usage: python -m mltrail.cli.reference [--check] PATH\n")
        return 2
    text = render()
    if check:
        with open(paths[0], encoding="utf-8") as fh:
            if fh.read() != text:
                sys.stderr.write(f"{paths[0]} is stale; rerun without --check to rewrite it.\n")
                return 1
        return 0
    with open(paths[0], "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
