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

"""CPU seconds and RSS of process groups, read from /proc (Linux)."""

import os

_TICK = os.sysconf('SC_CLK_TCK')
_PAGE = os.sysconf('SC_PAGE_SIZE')


def _stat(pid):
    with open('/proc/%d/stat' % pid) as f:
        # the command name may hold spaces: split after its closing ')'
        return f.read().rsplit(')', 1)[1].split()


def group_pids(pgid):
    """Processes whose process group is ``pgid`` (a started service and
    the workers it forked)."""
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[2]) == pgid:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def cpu_seconds(pids):
    """user + system CPU seconds of ``pids`` so far."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/statm' % pid) as f:
                total += int(f.read().split()[1]) * _PAGE
        except OSError:
            pass
    return total / 2 ** 20


def pids_of(executable_name):
    """PIDs whose command name is ``executable_name`` (read only)."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/comm' % entry) as f:
                    if f.read().strip() == executable_name:
                        found.append(int(entry))
            except OSError:
                pass
    return found
