"""A behaviour plugged in for one type serves that type, and only that type."""

from __future__ import annotations

from ubertruck.defaults import load_defaults

from .client import ProviderClient
from .conftest import start_provider, stop_provider


def test_a_registered_behaviour_serves_its_type(tmp_path):
    variable = load_defaults().localaws.behaviours_env_var
    process, port = start_provider(tmp_path / "cloud", {variable: "tests.localaws.custom_behaviour:register"})
    client = ProviderClient(port)
    try:
        client.configure()
        _, topic = client.create("aws:sns/topic:Topic", "acme-dev-events", {"name": "acme-dev-events"})
        _, queue = client.create("aws:sqs/queue:Queue", "acme-dev-jobs", {"name": "acme-dev-jobs"})
    finally:
        client.close()
        stop_provider(process)
    assert topic["createdBy"] == "custom-backend"
    assert "createdBy" not in queue
