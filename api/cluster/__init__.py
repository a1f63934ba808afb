"""Scale-out: several replicas on PostgreSQL and Redis, one dispatcher leader per city.

Only this package knows about Redis. `KEEPCAB_REDIS_URL` unset leaves the
embedded default exactly as it is; set, `api.app` builds a `ClusterService`
(`open_cluster`) instead of a local `DispatcherService`. See docs/scaleout.md.
"""

from .replica import ClusterService, RedisUnreachable, open_cluster

__all__ = ["ClusterService", "RedisUnreachable", "open_cluster"]
