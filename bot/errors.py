"""Errors that end a CLI command with exit status 2 and a one-line reason."""


class UserError(Exception):
    """Bad input, a bad file or a bad config: the message is shown to the user as is.

    Raise it with a message that says what was wrong and how to fix it; the CLI
    prints it on one line to stderr and exits 2, never with a traceback.
    """


def brief(exc: BaseException, limit: int = 300) -> str:
    """``Type: first line`` of an exception, for one log line: a database error's text goes
    on with the whole SQL statement and its parameters (notice text, addresses)."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {first}"[:limit]
