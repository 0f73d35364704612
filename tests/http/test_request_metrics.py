"""The request metrics an operator graphs: every answered request counted and timed under
its route's path template and status, 5xx counted as errors, nothing left in progress."""

from __future__ import annotations

import re
import time

from prometheus_client import REGISTRY

from ams_http.edge.request_metrics import FLUSH_SECONDS
from tests.http.conftest import World


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one series in the Prometheus text format (0 when absent)."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}")]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_requests_are_counted_and_timed_by_path_template_and_status(world: World) -> None:
    client = world.client
    me = {"method": "GET", "path": "/api/v1/me", "app_name": "ams"}
    before = client.get("/metrics").text
    for _ in range(3):
        assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert grew("ams_requests_total", status_code="200", **me) == 3
    assert grew("ams_requests_total", status_code="401", **me) == 1
    assert grew("ams_request_duration_seconds_count", status_code="200", **me) == 3
    assert grew("ams_request_duration_seconds_sum", status_code="200", **me) > 0
    assert grew("ams_requests_error_total", status_code="401", **me) == 0
    assert _sample(after, "ams_requests_in_progress", status_code="200", **me) == 0


def test_probes_and_the_metrics_page_are_not_counted(world: World) -> None:
    client = world.client
    client.get("/health/live")
    metrics = client.get("/metrics").text
    assert 'path="/health/live"' not in metrics
    assert 'path="/metrics"' not in metrics


def test_a_request_refused_before_its_handler_counts_under_the_status_it_got(
    world: World,
) -> None:
    client = world.client
    schedule = {"method": "GET", "path": "/api/v1/me/schedule", "app_name": "ams"}
    before = client.get("/metrics").text
    answer = client.get("/api/v1/me/schedule?from=%00", headers=world.headers("a.student"))
    after = client.get("/metrics").text

    assert answer.status_code == 422
    for status in ("422", "200"):
        grown = _sample(after, "ams_requests_total", status_code=status, **schedule)
        grown -= _sample(before, "ams_requests_total", status_code=status, **schedule)
        assert grown == (1 if status == "422" else 0)


def _series(name: str, **labels: str) -> float:
    """A series' value straight from this process's registry (no scrape, so no flush)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_duration_counts_in_the_first_bucket_whose_bound_holds_it(world: World) -> None:
    client = world.client
    me = {"method": "GET", "path": "/api/v1/me", "app_name": "ams", "status_code": "200"}
    before = client.get("/metrics").text
    for _ in range(2):
        assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
    after = client.get("/metrics").text

    def grew(le: str) -> float:
        name = "ams_request_duration_seconds_bucket"
        return _sample(after, name, le=le, **me) - _sample(before, name, le=le, **me)

    # cumulative buckets: everything under +Inf, and never more under a smaller bound
    assert grew("+Inf") == 2
    bounds = ["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0"]
    grown = [grew(le) for le in bounds]
    assert grown == sorted(grown)
    assert all(0 <= g <= 2 for g in grown)


def test_counts_reach_the_series_within_a_second_without_a_scrape(world: World) -> None:
    client = world.client
    me = {"method": "GET", "path": "/api/v1/me", "app_name": "ams", "status_code": "200"}
    client.get("/metrics")  # everything so far written
    before = _series("ams_requests_total", **me)

    assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
    deadline = time.monotonic() + 5 * FLUSH_SECONDS
    while _series("ams_requests_total", **me) == before and time.monotonic() < deadline:
        time.sleep(0.05)

    assert _series("ams_requests_total", **me) == before + 1
    assert _series("ams_requests_in_progress", **me) == 0


def test_counts_not_written_yet_are_written_at_shutdown(world: World) -> None:
    client = world.client
    me = {"method": "GET", "path": "/api/v1/me", "app_name": "ams", "status_code": "200"}
    client.get("/metrics")
    before = _series("ams_requests_total", **me)

    assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
    client.__exit__(None, None, None)  # the app shuts down before the timer is due

    assert _series("ams_requests_total", **me) == before + 1
