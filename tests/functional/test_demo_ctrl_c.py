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

"""The README's first command, stopped by Ctrl-C as a terminal stops it.

The command is read from the README's quick start and run as a shell runs a
foreground job: in a process group of its own, with the environment of a
terminal (no tox variables, no virtualenv on PATH). Once the demo says it is
ready, SIGINT goes to that whole group, as a terminal sends Ctrl-C, once or
twice. Then, within 10 s: the command exits 0, the demo printed one line and
no traceback, and nothing it started is left: no process with its work
directory on its command line, nothing listening on its ports, no work
directory.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.harness import cluster as cluster_mod
from tests.harness import net

pytestmark = pytest.mark.slow

STOPPED = 'Stopped: nothing the demo started is running.'


def readme_first_command():
    with open(os.path.join(cluster_mod.ROOT, 'README.md')) as f:
        readme = f.read()
    quick_start = readme.split('## Quick start', 1)[1]
    block = quick_start.split('```', 2)[1]
    return block.strip().splitlines()[0]


def terminal_environment():
    """This environment as a terminal has it: without the test's tox
    environment and virtualenv."""
    venv_bin = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('TOX_', 'VIRTUAL_ENV', 'PYTHON', 'PYTEST'))}
    env['PATH'] = os.pathsep.join(
        p for p in env.get('PATH', '').split(os.pathsep) if p != venv_bin)
    return env


def processes_mentioning(text):
    """PIDs of processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


class ForegroundJob:
    """A shell command in a process group of its own, its output read as
    it comes."""

    def __init__(self, command):
        self.lines = []
        self.popen = subprocess.Popen(
            ['bash', '-c', command], cwd=cluster_mod.ROOT,
            env=terminal_environment(), start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.lines.append(line.rstrip('\n'))

    def wait_for_line(self, pattern, timeout):
        def seen():
            if self.popen.poll() is not None:
                raise AssertionError('exited %s:\n%s' % (
                    self.popen.returncode, '\n'.join(self.lines[-40:])))
            return next((m for m in map(re.compile(pattern).search,
                                        list(self.lines)) if m), None)
        return net.wait_for(seen, timeout, pattern, interval=0.5)

    def ctrl_c(self):
        """SIGINT to the whole group, as a terminal's Ctrl-C."""
        os.killpg(self.popen.pid, signal.SIGINT)

    def kill(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


@pytest.mark.parametrize('presses', [1, 2])
def test_ctrl_c_stops_everything_the_demo_started(presses):
    command = readme_first_command()
    assert command.endswith('tox -e demo'), command
    job = ForegroundJob(command)
    try:
        workdir = job.wait_for_line(
            r'Starting an all-in-one Ironic \(SQLite\) in (\S+) \.\.\.',
            timeout=600).group(1)
        api_port = int(job.wait_for_line(
            r'Ready\. Ironic API: http://127\.0\.0\.1:(\d+)', 300).group(1))
        http_port = int(job.wait_for_line(
            r'curl http://127\.0\.0\.1:(\d+)/boot\.ipxe', 10).group(1))
        job.wait_for_line(r'^Press Ctrl-C to stop\.$', 10)
        started = processes_mentioning(workdir)
        assert started, 'the demo runs no process of its own?'
        assert net.listening('127.0.0.1', api_port)
        assert net.listening('127.0.0.1', http_port)
        before = len(job.lines)

        pressed = time.monotonic()
        for press in range(presses):
            if press:
                time.sleep(0.3)
            job.ctrl_c()
        try:
            job.popen.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError('still running 30 s after Ctrl-C:\n%s'
                                 % '\n'.join(job.lines[before - 3:]))
        took = time.monotonic() - pressed
    finally:
        job.kill()
    job._reader.join(10)
    after = job.lines[before:]
    print('\nCtrl-C x%d: exit %s in %.1f s; printed after it: %s'
          % (presses, job.popen.returncode, took, after))
    assert job.popen.returncode in (0, 130), '\n'.join(job.lines[-40:])
    assert took < 10, took
    demo_lines = [line for line in after if line.strip()
                  and not re.match(r'\s+(demo: |congratulations)', line)]
    assert demo_lines == [STOPPED], after
    assert not any('Traceback' in line for line in job.lines)
    assert not [pid for pid in started if os.path.exists('/proc/%d' % pid)]
    assert processes_mentioning(workdir) == []
    assert not net.listening('127.0.0.1', api_port)
    assert not net.listening('127.0.0.1', http_port)
    assert not os.path.exists(workdir)
