"""`diagnose completion bash|zsh|fish`: the shell completion script, for a shell named rather than guessed."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from diagnose.cli.common import app
from diagnose.cli.plain import out


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)]) -> None:
    """Print the completion script of a shell.

    bash: `diagnose completion bash > ~/.local/share/bash-completion/completions/diagnose`;
    zsh: `diagnose completion zsh > "${fpath[1]}/_diagnose"`;
    fish: `diagnose completion fish > ~/.config/fish/completions/diagnose.fish`.
    (`diagnose --install-completion` does the same for the shell it runs in.)
    """
    # typer writes the scripts that its own completion protocol answers; only the shell is chosen here
    from typer._completion_shared import get_completion_script

    out(get_completion_script(prog_name="diagnose", complete_var="_DIAGNOSE_COMPLETE", shell=shell.value).rstrip("\n") + "\n")
