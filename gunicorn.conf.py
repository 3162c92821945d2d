"""gunicorn settings read by the Procfile's `web` process (`--config gunicorn.conf.py`).

Prometheus multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set, every worker writes its
counters to files in that folder and /metrics sums them up. The folder is emptied when
the server starts (counts of an earlier run must not be added) and a worker's gauges are
dropped when it exits. One folder per gunicorn server: the `live` process runs without it.
"""

import os
from pathlib import Path


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
