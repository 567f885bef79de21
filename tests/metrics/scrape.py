"""Reading a real process's /metrics in tests."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str) -> Samples:
    """Every sample of GET /metrics, by (name, labels)."""
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def wait_sample(
    base_url: str, name: str, expected: float, timeout: float = 20, **labels: str
) -> Samples:
    """Scrape until the sample has the expected value (counted after the response went out,
    say); the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(base_url)
        if sample(samples, name, **labels) == expected:
            return samples
        if time.monotonic() > deadline:
            found = sample(samples, name, **labels)
            raise AssertionError(f"{name}{labels} is {found}, not {expected}, after {timeout} s")
        time.sleep(0.05)  # polling the process's own answer, with a deadline
