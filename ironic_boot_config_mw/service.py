"""Running a started service in the foreground, as Ironic's services run.

oslo.service's launcher forks a worker for one service (a second copy of
the process, ~130 MB); the shim and the boot API need none of its
machinery: they serve in THIS process until SIGTERM or SIGINT, and SIGHUP
mutates the configuration.
"""

import signal
import threading


def serve(svc, conf):
    """Serve the started ``svc`` (anything with ``stop()``) until SIGTERM
    or SIGINT; return 0 once it stopped."""
    stop, mutate = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: mutate.set())
    try:
        # Short waits: the main thread alone runs signal handlers.
        while not stop.wait(1):
            if mutate.is_set():
                mutate.clear()
                conf.mutate_config_files()
    finally:
        svc.stop()
    return 0
