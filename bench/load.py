"""A short, bounded load test of mixed reads against a gunicorn on 127.0.0.1 (loopback only).

A small threaded client rather than locust: no new dependency, and the bounds (request count, seconds)
are explicit. Each thread keeps its own connection and a logged-in session cookie made by the harness.
"""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))], 1) if ordered else 0.0

        kinds = {
            kind: {
                "n": len(v),
                "median_ms": round(statistics.median(v), 1),
                "p95_ms": round(sorted(v)[max(0, round(0.95 * len(v)) - 1)], 1),
            }
            for kind, v in self.by_kind.items()
            if v
        }
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 1),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "median_ms": round(statistics.median(ordered), 1) if ordered else 0.0,
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "by_kind": kinds,
            "error_samples": self.error_samples[:5],
        }


def mixed_requests(info: dict, year: int) -> list[tuple[str, str, str, int]]:
    """(kind, session, path, weight): around a reporting deadline most readers are branch and base staff
    looking at their own lists and people; boards read dashboards; the province board is one of hundreds."""
    s = info["sessions"]
    people = info["person_ids"]
    mix = [
        ("list", s["branch"], "/ho-so/", 12),
        ("list", s["branch"], "/ho-so/?stage=cam_tinh", 6),
        ("list", s["base"], "/ho-so/", 6),
        ("list", s["base"], "/ho-so/?q=nguyen", 3),
        ("list", s["mid"], "/ho-so/?stage=ho_so", 2),
        ("list", s["root"], "/ho-so/?stage=ho_so", 1),
        ("dashboard", s["base"], f"/chi-tieu/?year={year}", 8),
        ("dashboard", s["mid"], f"/chi-tieu/?year={year}", 8),
        ("dashboard", s["root"], f"/chi-tieu/?year={year}", 4),
        ("board", s["branch"], "/ho-so/bang-tien-trinh/", 6),
        ("board", s["mid"], "/ho-so/bang-tien-trinh/", 4),
        ("api", s["mid"], f"/api/v1/attainment/?year={year}&org={info['mid_code']}", 15),
    ]
    mix += [("person", s["mid"], f"/ho-so/{pk}/", 25 / len(people[:40])) for pk in people[:40]]
    return mix


def run(
    *,
    port: int,
    info: dict,
    year: int,
    threads: int,
    max_requests: int,
    max_seconds: float,
    warmup: int = 40,
    seed: int = 7,
) -> LoadResult:
    mix = mixed_requests(info, year)
    weights = [m[3] for m in mix]
    result = LoadResult()
    lock = threading.Lock()
    issued = [0]
    deadline = [0.0]

    def one(conn_holder: list, rng: random.Random, record: bool) -> None:
        kind, session, path, _ = rng.choices(mix, weights=weights)[0]
        started = time.perf_counter()
        error = None
        try:
            if conn_holder[0] is None:
                conn_holder[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn = conn_holder[0]
            conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                error = f"{path} -> {response.status}"
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn_holder[0] = None
        except (OSError, http.client.HTTPException) as exc:
            error = f"{path} -> {type(exc).__name__}: {exc}"
            conn_holder[0] = None
        elapsed = (time.perf_counter() - started) * 1000
        if record:
            with lock:
                result.latencies_ms.append(elapsed)
                result.by_kind.setdefault(kind, []).append(elapsed)
                if error:
                    result.errors += 1
                    result.error_samples.append(error)

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn_holder = [None]
        while True:
            with lock:
                if issued[0] >= max_requests or time.monotonic() > deadline[0]:
                    return
                issued[0] += 1
            one(conn_holder, rng, record=True)

    warm_rng = random.Random(seed)
    holder = [None]
    for _ in range(warmup):
        one(holder, warm_rng, record=False)
    deadline[0] = time.monotonic() + max_seconds
    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies_ms)
    return result
