"""A local stand-in for the AWS provider: the ``aws`` resource plugin for ``--local`` applies.

The real Pulumi engine loads it exactly as it loads pulumi-aws (``install.install_plugin`` puts a
``pulumi-resource-aws`` launcher into an isolated PULUMI_HOME), and it speaks the real provider
gRPC protocol (``server.LocalAwsProvider``), so whole stacks can be previewed, applied, refreshed
and destroyed on one machine with no AWS account.

- ``python -m platformctl.localaws [engine-address]`` serves it and prints only its port.
- ``store``: the durable "cloud", one JSON file per resource, in the folder named by
  ``localaws.store_env_var`` (default ``$PULUMI_HOME/<localaws.store_default_subdir>``). Edit or
  delete a record and the next refresh shows the drift.
- ``faults``: test tooling that makes chosen operations fail, permanently or transiently.
- ``catalog``: per-type facts (name input, what AWS cannot change in place), used by diffs.
- ``invokes``: the ``aws.get_*`` functions, answered as the offline engine answers them.

Extension point: per-type behaviour is pluggable. ``behaviours.ResourceBehaviour`` is the
interface (check, replacements, preview, create, read, update, delete); ``GenericBehaviour``
serves every type by default; ``BehaviourRegistry.register(type_token, behaviour)`` overrides one
type. A backend that applies some types to a local AWS emulator (``moto_server``) subclasses
``GenericBehaviour`` for those types and names its registrar (``module:function``, called with the
registry) in the environment variable ``localaws.behaviours_env_var``; every provider process runs
the registrars at start. See ``behaviours`` for an example.
"""
