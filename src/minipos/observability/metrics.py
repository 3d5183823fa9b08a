"""The process's Prometheus metrics, in a registry of their own (one per application, so tests
that build several applications never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from minipos.observability.queues import QueueStat, SyncLink

#: Request latencies: the target is p99 ≤ 25 ms, so the buckets are fine below that.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: Jobs per SQLite group commit; ``minipos.db.database.MAX_GROUP`` is 256.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    def __init__(self, *, store: bool = False) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.requests = Counter(
            "minipos_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "minipos_http_request_duration_seconds",
            "Time from a request's arrival to its last response byte",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_batch = Histogram(
            "minipos_db_commit_batch_size",
            "Write jobs carried by one SQLite group commit",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "minipos_db_commit_seconds",
            "Time one SQLite group commit takes, BEGIN to COMMIT (the fsync included)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lease_expiries = Counter(
            "minipos_invoice_lease_expiries",
            "Invoice claims that expired and went back to New",
            registry=r,
        )
        self.failed_logins = Counter(
            "minipos_auth_failures",
            "Requests refused 401 by the key check (no, malformed or unknown key)",
            registry=r,
        )
        self.queue_depth = Gauge(
            "minipos_queue_depth", "Items waiting or being sent, per queue", ["queue"], registry=r
        )
        self.queue_oldest = Gauge(
            "minipos_queue_oldest_age_seconds",
            "Age of the oldest item waiting or being sent (0 when empty), per queue",
            ["queue"],
            registry=r,
        )

        # A store's link to its centre (MINIPOS_MODE=store only: elsewhere there is none).
        self.sync_skew: Gauge | None = None
        self.sync_contact_age: Gauge | None = None
        if store:
            self.sync_skew = Gauge(
                "minipos_sync_clock_skew_seconds",
                "The centre's clock minus this store's, estimated at the last push (NaN: unknown)",
                registry=r,
            )
            self.sync_contact_age = Gauge(
                "minipos_sync_last_contact_age_seconds",
                "Seconds since the centre last answered (+Inf: never); offline past 15",
                registry=r,
            )

    def request_children(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram of these labels, looked up once: the
        label sets are few (declared routes, methods, statuses) and ``labels()`` is not free."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._request_children[key] = children
        return children

    def observe_commit(self, jobs: int, seconds: float) -> None:
        """The database's group-commit hook (called on the writer thread)."""
        self.commit_batch.observe(jobs)
        self.commit_seconds.observe(seconds)

    def render(self, queues: list[QueueStat], link: SyncLink | None = None) -> bytes:
        """The text exposition, with the queue gauges as of ``queues`` (read at scrape time)."""
        for stat in queues:
            self.queue_depth.labels(stat.queue).set(stat.depth)
            self.queue_oldest.labels(stat.queue).set(stat.oldest_age_seconds)
        if link is not None and self.sync_skew is not None and self.sync_contact_age is not None:
            skew, age = link.skew_seconds, link.last_contact_age_seconds
            self.sync_skew.set(float("nan") if skew is None else skew)
            self.sync_contact_age.set(float("inf") if age is None else age)
        return generate_latest(self.registry)
