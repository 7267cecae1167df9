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

"""One started process, its log, and a bounded stop.

Each process gets a session of its own (so a terminal's Ctrl-C reaches only
the program that started it, which then stops it) and is told by the kernel
to stop when that program dies, however it dies (``PR_SET_PDEATHSIG``):
nothing is left running when a test run or the demo is killed.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time

from tests.harness import net

_PR_SET_PDEATHSIG = 1
# Looked up here, not in the child: between fork and exec only this call.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _stop_with_parent():
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _child_setup(nice):
    def setup():
        _stop_with_parent()
        if nice:
            os.nice(nice)
    return setup


class Process:
    """A process started in a session of its own, logging to ``log_path``.

    :param name: what the harness calls it (``api``, ``shim-0``, ...).
    :param nice: its niceness, as ``Nice=`` of a systemd unit says.
    :param timestamps: prefix each line of its output with the time it was
        read (``time.time()``), for a program whose log lines have none.
    """

    def __init__(self, name, argv, log_path, env=None, nice=0,
                 timestamps=False):
        self.name = name
        #: True once the test stopped or killed it on purpose.
        self.stopped = False
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        self.popen = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE if timestamps else self._log,
            stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_child_setup(nice))
        self._copier = None
        if timestamps:
            self._copier = threading.Thread(target=self._copy_with_times,
                                            daemon=True)
            self._copier.start()
        if nice:
            # With the kernel's autogroups (sched_autogroup_enabled), a
            # session of its own is a scheduling group of its own: a
            # thread's nice counts only within it, the group's own nice
            # between groups. As systemd's CPUWeight= and Nice= together.
            with contextlib.suppress(OSError), \
                    open('/proc/%d/autogroup' % self.popen.pid, 'w') as f:
                f.write(str(nice))

    def _copy_with_times(self):
        for line in self.popen.stdout:  # ends when the process does
            self._log.write(b'%.3f %s' % (time.time(), line))
            self._log.flush()

    @property
    def pid(self):
        return self.popen.pid

    @property
    def returncode(self):
        return self.popen.poll()

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def log_once(self, text, timeout=5.0):
        """The log once it holds ``text``, or as it is after ``timeout``:
        a line may come a moment after what it reports was seen (a file a
        takeover wrote is served before the takeover logs it)."""
        with contextlib.suppress(TimeoutError):
            net.wait_for(lambda: text in self.log(), timeout, repr(text),
                         interval=0.1)
        return self.log()

    def signal(self, signum):
        """Signal the process only (the service launcher's parent)."""
        if self.alive():
            self.popen.send_signal(signum)

    def signal_group(self, signum):
        """Signal the process and the workers it forked (its own session)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def kill(self):
        """SIGKILL, as a crash or the OOM killer ends it."""
        self.stopped = True
        self.signal_group(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout=40):
        """SIGTERM, then SIGKILL to the whole group after ``timeout``."""
        self.stopped = True
        if self.alive():
            # SIGCONT first: a test may have stopped it with SIGSTOP.
            self.signal_group(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(5)
        with contextlib.suppress(ProcessLookupError):
            # Workers that outlived their parent.
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self._copier is not None:
            self._copier.join(10)
        self._log.close()
