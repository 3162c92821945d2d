"""gunicorn settings read by the Procfile's `web` process (`--config gunicorn.conf.py`).

The database pool: one connection per gunicorn thread (CONSULT_DB_POOL_SIZE, if not set).

Prometheus multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set, every worker writes its
counters to files in that folder and /metrics sums them up. The folder is emptied when
the server starts (counts of an earlier run must not be added) and a worker's gauges are
dropped when it exits. One folder per gunicorn server: the `live` process runs without it.
"""

import os
from pathlib import Path


def on_starting(server):
    # One kept database connection per thread (consult.config, DB_POOL_SIZE): with
    # SQLAlchemy's default of 5 and the Procfile's 8 threads, three threads opened and
    # closed a PostgreSQL connection for every request under load. Set before the
    # workers start, which read it when they create the app.
    os.environ.setdefault("CONSULT_DB_POOL_SIZE", str(server.cfg.threads))
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
