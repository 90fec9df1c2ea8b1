"""The command line in Chinese first: help headings, click's own usage errors, the help option.

click writes its help and its usage errors in English; a county clerk reads Chinese. Every
command's help text is written in Chinese (with the English beside it), and here click's own
words are given their Chinese: the help's headings (用法, 选项, 命令), the ``--help`` option, and
the usage errors (a missing option, an unknown command, a bad value), which keep click's English
message after the Chinese so that nothing of what click says is lost.
"""

from __future__ import annotations

import re

import click

HEADINGS = {"Options": "选项 / Options", "Commands": "命令 / Commands", "Arguments": "参数 / Arguments"}
HELP_OPTION = "显示本帮助并退出 / Show this message and exit."
VERSION_OPTION = "显示版本并退出 / Show the version and exit."

# click's usage errors, the start of each message → what it means in Chinese
USAGE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), zh) for p, zh in (
    (r"^Missing option", "缺少必需的选项"),
    (r"^Missing argument", "缺少必需的参数"),
    (r"^Missing parameter", "缺少必需的参数"),
    (r"^No such option", "没有这个选项"),
    (r"^No such command", "没有这个命令"),
    (r"^Got unexpected extra argument", "多余的参数"),
    (r"^Invalid value for .*(does not exist|不存在)", "路径不存在"),
    (r"^Invalid value for .*is a file", "此处应为目录，给的是文件"),
    (r"^Invalid value for .*is a directory", "此处应为文件，给的是目录"),
    (r"^Invalid value", "取值无效"),
    (r"^Option .* requires an argument", "选项缺少取值"),
    (r"^Option .* does not take a value", "选项不接受取值"),
))


def usage_error_text(message: str) -> str:
    """A click usage error's message with its Chinese in front (click's English kept)."""
    for pattern, zh in USAGE_ERRORS:
        if pattern.search(message):
            return f"{zh} / {message}"
    return message


class ChineseHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="用法 / Usage: ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def localise(command: click.Command) -> None:
    """Give ``command`` and every command under it the Chinese help layout and help option."""
    command.context_class = ChineseContext
    help_option = command.get_help_option(ChineseContext(command))
    if help_option is not None:
        help_option.help = HELP_OPTION
    for param in command.params:
        if isinstance(param, click.Option) and "--version" in param.opts:
            param.help = VERSION_OPTION
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localise(sub)


def show_usage_error(exc: click.UsageError) -> None:
    """What click prints for a usage error, in Chinese first (exit code 2, as click's own)."""
    ctx = exc.ctx
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        hint = f"运行 `{ctx.command_path} --help` 查看帮助 / Try '{ctx.command_path} --help' for help."
        click.echo(hint, err=True)
        click.echo("", err=True)
    click.echo(f"用法错误 / usage error: {usage_error_text(exc.format_message())}", err=True)
