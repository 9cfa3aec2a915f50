"""The tests' throwaway PostgreSQL cluster: `valueprint.bench.postgres`, shared with the scale benchmarks
(initdb into a temp dir, 127.0.0.1 only, fsync off; `ClusterError` with the server's log on failure)."""

from valueprint.bench.postgres import INSTALL_HINT, PG_BIN, ClusterError, PostgresCluster, free_port

__all__ = ["INSTALL_HINT", "PG_BIN", "ClusterError", "PostgresCluster", "free_port"]
