"""Errors that reach the operator as one clear line.

A ``UserError`` is bad input: the CLI prints ``str(error)`` and exits 2, with a traceback only
under ``--debug``. A check that ran and found violations is not an error; it exits 1.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input or usage. ``where`` names the file or field, ``problem`` says what is wrong and
    what is expected."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Plan workers send errors back pickled; rebuild from the fields, not the message.
        return (UserError, (self.where, self.problem))


class UserErrors(UserError):
    """Several independent problems found in one pass (for example every bad registry file)."""

    def __init__(self, errors: list[UserError]) -> None:
        self.errors = errors
        lines = [str(e) for e in errors]
        Exception.__init__(self, "\n".join(lines))
        self.where = errors[0].where if errors else ""
        self.problem = "\n".join(lines)

    def __reduce__(self) -> tuple[type, tuple[list[UserError]]]:  # type: ignore[override]
        return (UserErrors, (self.errors,))


#: How a pydantic type error reads in a one-line message (registry files and config trees alike).
TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def type_mismatch(kind: str, given: object) -> str | None:
    """``expected <what the type wants>, got <the given type's name>`` for a type error; else None."""
    words = TYPE_WORDS.get(kind)
    return f"expected {words}, got {type(given).__name__}" if words else None

