"""The offline engine: the Pulumi program under the SDK's mock runtime, captured in full.

No CLI, no provider plugin, no credentials and no backend: the program talks to a resource
monitor that records every registration the way the engine would see it (type, name, parent,
inputs in the engine's camelCase names, dependencies, provider, options) and builds URNs the
way the engine builds them.
"""
