"""The functions' runtime dependency list (``functions/requirements.txt``), read and checked.

Only exact pins are accepted (``name[extras]==version``): the layer must hold the same code on
every build. Names compare in their normalized form (PEP 503), so ``PyJWT`` and ``pyjwt`` match.

>>> parse_pins("PyJWT[crypto]==2.10.1  # comment\\n", "requirements.txt")[0]
Pin(name='pyjwt', version='2.10.1', line='PyJWT[crypto]==2.10.1')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ubertruck.errors import UserError

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[A-Za-z0-9,._ -]*\])?==(?P<version>[A-Za-z0-9.+!_-]+)$")
_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name: lower case, runs of ``-_.`` as one ``-``."""
    return _SEPARATORS.sub("-", name).lower()


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` line."""

    name: str
    version: str
    line: str


def parse_pins(text: str, where: str) -> list[Pin]:
    """Every requirement line of ``text``; anything but an exact pin is refused, naming the line."""
    pins: list[Pin] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line.replace(" ", ""))
        if match is None:
            raise UserError(f"{where}:{number}", f"{line!r} is not an exact pin; expected name==version")
        pins.append(Pin(normalize(match.group("name")), match.group("version"), line))
    return pins


def read_pins(path: Path) -> list[Pin]:
    """The pins of the requirements file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(str(path), f"cannot read the runtime dependency list ({exc.strerror})") from None
    return parse_pins(text, str(path))


def project_pins(path: Path) -> list[Pin]:
    """The exact pins of the project's ``requirements.txt`` (its other lines are skipped)."""
    pins: list[Pin] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip().replace(" ", "")
        match = _PIN.match(line)
        if match is not None:
            pins.append(Pin(normalize(match.group("name")), match.group("version"), line))
    return pins
