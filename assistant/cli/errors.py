"""The one exception the CLI turns into a single line on stderr and exit status 1."""


class CliError(Exception):
    """A failure to report on stderr as one line, with exit status 1."""
