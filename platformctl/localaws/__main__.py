"""``python -m platformctl.localaws [flags] [engine-address]``: run the stand-in as the engine does.

Like every Pulumi plugin it prints only its port on stdout, then serves until interrupted.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from concurrent import futures

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from ubertruck.errors import UserError

from .behaviours import BehaviourRegistry
from .server import LocalAwsProvider
from .settings import default_account, localaws_defaults, provider_version
from .store import CloudStore

log = logging.getLogger("platformctl.localaws")

#: The engine passes ``-v=<n>`` when it runs with verbose logging; then the stand-in says more.
_VERBOSE_FLAG = "-v="


def _log_level(argv: list[str]) -> int:
    verbose = any(arg.startswith(_VERBOSE_FLAG) and arg[len(_VERBOSE_FLAG) :] not in ("", "0") for arg in argv)
    return logging.INFO if verbose else logging.WARNING


def _stop_on_signals(stop: threading.Event) -> None:
    # A process started from a background shell job inherits SIGINT as ignored; the engine stops
    # its plugins with SIGINT, so take the default meaning back (see policies/rules/sdk.py).
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())


def build_provider(environ: dict[str, str] | None = None) -> LocalAwsProvider:
    """The provider servicer with its store and behaviours, as the environment names them."""
    env = dict(os.environ if environ is None else environ)
    section = localaws_defaults()
    registry = BehaviourRegistry(section.autoname_suffix_length)
    registry.load(env.get(section.behaviours_env_var, ""))
    return LocalAwsProvider(registry, CloudStore.from_environment(env), provider_version(), default_account())


def serve(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stderr, level=_log_level(argv), format="localaws: %(levelname)s %(message)s")
    section = localaws_defaults()
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        provider = build_provider()
    except UserError as error:
        print(f"localaws: {error}", file=sys.stderr)
        return 2
    limits = [("grpc.max_receive_message_length", section.max_message_bytes), ("grpc.max_send_message_length", section.max_message_bytes)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=section.server_threads), options=limits)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    parent = os.getppid()
    log.info("serving on 127.0.0.1:%d, cloud in %s", port, provider.store.root)
    while not stop.wait(section.orphan_check_seconds):
        if os.getppid() != parent:
            log.warning("the engine that started this provider is gone; stopping")
            break
    server.stop(section.shutdown_grace_seconds).wait()
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
