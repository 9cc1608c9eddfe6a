"""A Powertools ``SSMProvider`` whose values keep each parameter's type and version.

Powertools caches whatever its fetch methods return, keyed by path and options, for ``max_age``
seconds. The stock provider returns bare strings; this one returns a ``ParameterRecord`` per
parameter, so callers can tell a SecureString from a String (the config read API redacts the
former) while keeping Powertools' caching, pagination and error wrapping.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.parameters.ssm import SSMProvider

SECURE_STRING = "SecureString"


class ParameterRecord(NamedTuple):
    """One SSM parameter as read: its text, its type and its version."""

    value: str
    type: str
    version: int

    @property
    def secure(self) -> bool:
        return self.type == SECURE_STRING


class DescribedSSMProvider(SSMProvider):
    """``SSMProvider`` returning ``ParameterRecord`` values (``get`` and ``get_multiple``).

    Only ``transform=None`` is meaningful with this provider: records are not strings.
    """

    def _get(self, name: str, decrypt: bool = False, **sdk_options: Any) -> ParameterRecord:  # type: ignore[override]
        sdk_options["Name"] = name
        sdk_options["WithDecryption"] = decrypt
        parameter = self.client.get_parameter(**sdk_options)["Parameter"]
        return _record(parameter)

    def _get_multiple(  # type: ignore[override]
        self,
        path: str,
        decrypt: bool | None = None,
        recursive: bool = False,
        **sdk_options: Any,
    ) -> dict[str, ParameterRecord]:
        sdk_options["Path"] = path
        sdk_options["WithDecryption"] = bool(decrypt)
        sdk_options["Recursive"] = recursive
        root = path.rstrip("/") + "/"
        records: dict[str, ParameterRecord] = {}
        for page in self.client.get_paginator("get_parameters_by_path").paginate(**sdk_options):
            for parameter in page.get("Parameters", []):
                name = parameter["Name"]
                # Names come back absolute; callers want them relative to the path they asked for.
                relative = name[len(root) :] if name.startswith(root) else name.lstrip("/")
                records[relative] = _record(parameter)
        return records


def _record(parameter: dict[str, Any]) -> ParameterRecord:
    return ParameterRecord(value=parameter["Value"], type=parameter.get("Type", "String"), version=int(parameter.get("Version", 0)))
