# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""How this package's code runs in a process: beside a conductor or not.

oslo.service's launcher forks a worker for one service (a second copy of
the process, ~130 MB); the shim and the boot API need none of its
machinery: they serve in THIS process until SIGTERM or SIGINT, and SIGHUP
mutates the configuration (:func:`serve`).
"""

import signal
import threading

from ironic.common import rpc as ironic_rpc


def conductor_in_process():
    """Whether this process runs a conductor (the all-in-one ``ironic``):
    Ironic sets its global manager before it builds the embedded API."""
    return ironic_rpc.GLOBAL_MANAGER is not None


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
