"""Where the stand-in keeps its cloud, and the defaults it runs with (``defaults.yaml``, ``localaws:``)."""

from __future__ import annotations

import os
from pathlib import Path

from ubertruck.defaults import LocalAwsSection, load_defaults
from ubertruck.errors import UserError

#: Pulumi's own variable for its home folder; the engine passes it on to the plugins it starts.
PULUMI_HOME_ENV_VAR = "PULUMI_HOME"


def localaws_defaults() -> LocalAwsSection:
    return load_defaults().localaws


def provider_version() -> str:
    """The pulumi-aws version the stand-in answers as (the one the program's SDK asks for)."""
    return load_defaults().offline.aws_provider_version


def default_account() -> str:
    """The account answered when the provider config pins none."""
    return localaws_defaults().default_account_id


def store_dir(environ: dict[str, str] | None = None) -> Path:
    """The folder of the local cloud: the store variable, else ``$PULUMI_HOME/<store_default_subdir>``.

    There is deliberately no fallback to ``~/.pulumi``: a stand-in cloud never lands in the user's
    own Pulumi home.
    """
    env = os.environ if environ is None else environ
    section = localaws_defaults()
    explicit = env.get(section.store_env_var, "")
    if explicit:
        return Path(explicit)
    home = env.get(PULUMI_HOME_ENV_VAR, "")
    if home:
        return Path(home) / section.store_default_subdir
    raise UserError(section.store_env_var, f"not set, and neither is {PULUMI_HOME_ENV_VAR}; name the folder of the local AWS stand-in's cloud")
