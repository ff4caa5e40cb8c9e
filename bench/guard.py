"""Guard overhead: the same route with and without the guards, in one run.

Over HTTP: a target process serves ``/bench/open``, ``/bench/signed-in`` and
``/bench/step-up`` (see ``bench.target``); a second one serves them without the security
middlewares. Client threads hit one route at a time over keep-alive connections; the routes
take turns round by round, so a busy moment of the machine does not land on one of them only.

In process: the same app called through ASGI one request at a time (no network, no client
threads): the app's own time per request, the steadiest figure on a busy machine.
"""

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field

import httpx

from bench.server import PASSWORD, Target, browser, person, target
from bench.stats import Row, percentile
from bench.target import build

ROUTES = {
    "open (no guard)": ("/bench/open", False),
    "signed in (CurrentUser)": ("/bench/signed-in", False),
    "step-up (CurrentUser + RecentAuth)": ("/bench/step-up", False),
    "step-up, guard as async def (proposal)": ("/bench/step-up-on-loop", False),
    "step-up, security middlewares off": ("/bench/step-up", True),
}


@dataclass
class Tally:
    seconds: float = 0.0
    server_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


def burst(clients: list[httpx.Client], path: str, per_client: int) -> tuple[float, list[float]]:
    """Every client sends ``per_client`` requests back to back; all start together."""
    barrier = threading.Barrier(len(clients) + 1)
    latencies: list[list[float]] = [[] for _ in clients]

    def work(client: httpx.Client, out: list[float]) -> None:
        barrier.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            r = client.get(path)
            out.append(time.perf_counter() - started)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text}")

    threads = [
        threading.Thread(target=work, args=(c, out))
        for c, out in zip(clients, latencies, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, [x for out in latencies for x in out]


def run(
    rounds: int = 4, requests: int = 800, threads: int = 4, say: Callable[[str], None] = print
) -> list[Row]:
    tallies = {name: Tally() for name in ROUTES}
    with ExitStack() as stack:
        clients: dict[bool, list[httpx.Client]] = {}
        servers: dict[bool, Target] = {}
        for bare in (False, True):
            servers[bare] = server = stack.enter_context(target(bare=bare))
            owner = stack.enter_context(closing(person(server.url, "bench@example.com")))
            clients[bare] = [stack.enter_context(browser(server.url)) for _ in range(threads)]
            for client in clients[bare]:
                client.cookies.update(owner.cookies)
        names = list(ROUTES)
        for name in names:  # warm up: connections, caches, the first touch of the session
            path, bare = ROUTES[name]
            burst(clients[bare], path, 50)
        for n in range(rounds):
            say(f"guard: round {n + 1}/{rounds}")
            for name in names[n % len(names) :] + names[: n % len(names)]:
                path, bare = ROUTES[name]
                cpu_before = servers[bare].cpu_seconds()
                seconds, latencies = burst(clients[bare], path, requests // threads)
                tallies[name].server_cpu += servers[bare].cpu_seconds() - cpu_before
                tallies[name].seconds += seconds
                tallies[name].latencies += latencies

    base = tallies["open (no guard)"].throughput
    rows = []
    for name, tally in tallies.items():
        lat = tally.latencies
        cpu = tally.server_cpu / len(lat)
        rows.append(
            Row(
                "guard overhead",
                name,
                f"{tally.throughput:,.0f} req/s",
                f"{tally.throughput / base:.0%} of open; p50 {percentile(lat, 50) * 1000:.2f} ms,"
                f" p99 {percentile(lat, 99) * 1000:.2f} ms; server CPU {cpu * 1000:.2f} ms/req",
            )
        )
    guarded = tallies["step-up (CurrentUser + RecentAuth)"]
    signed_in = tallies["signed in (CurrentUser)"]
    cpu_ratio = signed_in.server_cpu / guarded.server_cpu  # same request counts
    rows.append(
        Row(
            "guard overhead",
            "step-up guard alone (step-up vs signed in, throughput)",
            f"{guarded.throughput / signed_in.throughput:.0%}",
            f"target >= 90%; by server CPU {cpu_ratio:.0%}; {rounds} rounds x {requests}"
            f" requests, {threads} client threads",
        )
    )
    return rows


async def _in_process(paths: list[str], samples: int) -> dict[str, tuple[list[float], float]]:
    """Per path: wall-clock seconds of each request, and CPU seconds per request (this
    process, all threads), which other processes' load hardly touches."""
    app = build(8000, str(tempfile.mkdtemp(prefix="stepup-bench-") + "/bench.db"), 4, False)
    transport = httpx.ASGITransport(app=app)
    origin = "http://localhost:8000"
    async with httpx.AsyncClient(
        transport=transport, base_url=origin, headers={"origin": origin}
    ) as client:
        for path in ("/auth/signup", "/auth/login"):
            r = await client.post(path, json={"email": "bench@example.com", "password": PASSWORD})
            r.raise_for_status()
        (await client.post("/auth/confirm", json={"password": PASSWORD})).raise_for_status()
        wall: dict[str, list[float]] = {path: [] for path in paths}
        cpu = dict.fromkeys(paths, 0.0)
        batch = 50
        for n in range(samples // batch + 2):  # the first two batches warm up
            for path in paths[n % len(paths) :] + paths[: n % len(paths)]:
                cpu_started = time.process_time()
                for _ in range(batch):
                    started = time.perf_counter()
                    r = await client.get(path)
                    if n >= 2:
                        wall[path].append(time.perf_counter() - started)
                    if r.status_code != 200:
                        raise RuntimeError(f"{path}: {r.status_code} {r.text}")
                if n >= 2:
                    cpu[path] += time.process_time() - cpu_started
    return {path: (wall[path], cpu[path] / len(wall[path])) for path in paths}


def run_in_process(samples: int = 2000) -> list[Row]:
    paths = {name: path for name, (path, bare) in ROUTES.items() if not bare}
    measured = asyncio.run(_in_process(list(paths.values()), samples))
    base = measured["/bench/open"][1]
    signed_in = measured["/bench/signed-in"][1]
    rows = []
    for name, path in paths.items():
        wall, cpu = measured[path]
        rows.append(
            Row(
                "guard overhead, in process",
                name,
                f"{cpu * 1000:.3f} ms CPU",
                f"{base / cpu:.0%} of open's rate, {signed_in / cpu:.0%} of signed in's;"
                f" wall p50 {percentile(wall, 50) * 1000:.3f} ms, p99"
                f" {percentile(wall, 99) * 1000:.3f} ms ({len(wall)} requests)",
            )
        )
    return rows
