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

"""Load: wrk (Debian's) over many paths, with its report parsed, and a
storm of machines, each booting once. The load of the benchmark and of the
boot-storm tests. Every run is bounded in time."""

import concurrent.futures
import dataclasses
import http.client
import os
import random
import re
import subprocess
import tempfile
import threading
import time
import typing
import urllib.parse

_LUA = r'''
local paths = {}
local i = 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local think = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  think = tonumber(args[2]) or 0
  i = math.random(#paths)
  statuses = {}
end
delay = function()
  return think
end
request = function()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
'''

_UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 6e4}


def _ms(text):
    m = re.match(r'([\d.]+)(us|ms|s|m)$', text)
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclasses.dataclass
class WrkRun:
    """What one wrk run measured. Latencies in milliseconds."""

    rps: float
    requests: int
    p50: float
    p99: float
    max: float
    non2xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    #: {HTTP status: count}
    statuses: dict = dataclasses.field(default_factory=dict)
    raw: str = ''

    @property
    def asked(self):
        """Requests sent: wrk counts one that got no answer (a time-out, a
        reset) as an error, not as a request; it is a machine not served
        all the same."""
        return self.requests + self.socket_errors

    @property
    def errors(self):
        return self.non2xx + self.socket_errors

    @property
    def served_rps(self):
        """Answers 2xx a second: a refusal is not throughput."""
        return self.rps * (self.requests - self.non2xx) / max(
            self.requests, 1)

    def summary(self):
        return ('%d requests, statuses %s, socket errors %d (%d timeouts), '
                'p50 %.0f ms, p99 %.0f ms, max %.0f ms' % (
                    self.requests, self.statuses, self.socket_errors,
                    self.timeouts, self.p50, self.p99, self.max))

    @classmethod
    def parse(cls, out):
        """From wrk's report with ``--latency`` and this module's script."""
        def latency(pattern):
            return _ms(re.search(pattern, out, re.M).group(1))

        run = cls(
            rps=float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
            requests=int(re.search(r'(\d+) requests in', out).group(1)),
            p50=latency(r'^\s+50%\s+(\S+)'),
            p99=latency(r'^\s+99%\s+(\S+)'),
            # The slowest answered request (Thread Stats: avg, stdev, max).
            max=latency(r'^\s+Latency\s+\S+\s+\S+\s+(\S+)'),
            statuses={int(status): int(count) for status, count in
                      re.findall(r'^status (\d+) (\d+)$', out, re.M)},
            raw=out)
        m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
        if m:
            run.non2xx = int(m.group(1))
        m = re.search(r'Socket errors: connect (\d+), read (\d+), '
                      r'write (\d+), timeout (\d+)', out)
        if m:
            run.socket_errors = sum(int(x) for x in m.groups())
            run.timeouts = int(m.group(4))
        return run


def run(base_url, paths, duration=10, connections=16, threads=2,
        headers=(), timeout_s=5, think_ms=0):
    """Run wrk over ``paths``, in turn from a random start: a
    :class:`WrkRun`. ``think_ms``: each connection waits that long after a
    response before its next request (0: back to back)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, 'paths.lua')
        listing = os.path.join(tmp, 'paths.txt')
        with open(script, 'w') as f:
            f.write(_LUA)
        with open(listing, 'w') as f:
            f.write('\n'.join(paths) + '\n')
        argv = ['wrk', '-t%d' % threads, '-c%d' % connections,
                '-d%ds' % duration, '--timeout', '%ds' % timeout_s,
                '--latency', '-s', script]
        for header in headers:
            argv += ['-H', header]
        argv += [base_url, '--', listing, str(think_ms)]
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=duration + 60, check=True).stdout
    return WrkRun.parse(out)


class Answer(typing.NamedTuple):
    """What one machine's request got: ``status`` (None: no answer, then
    ``error`` says why) after ``ms`` milliseconds."""

    path: str
    status: typing.Optional[int]
    ms: float
    error: str = ''

    @property
    def outcome(self):
        """The status, or the error when there was no answer."""
        return self.status or self.error


def machine_storm(base_url, machines, seconds, timeout_s=30, workers=256,
                  seed=1):
    """A machine-like storm: each machine (a list of paths, one per NIC)
    starts at a random moment of ``seconds`` seconds and asks its paths in
    turn, each on a connection of its own, as iPXE does, until one answers
    200. Returns every :class:`Answer`. Bounded: each request by
    ``timeout_s``, the whole by ``seconds + len(paths) * timeout_s``."""
    url = urllib.parse.urlsplit(base_url)
    rng = random.Random(seed)
    starts = sorted((rng.uniform(0, seconds), index)
                    for index in range(len(machines)))
    answers, lock = [], threading.Lock()

    def machine(paths):
        for path in paths:
            answer = _ask(url.hostname, url.port, path, timeout_s)
            with lock:
                answers.append(answer)
            if answer.status == 200:
                return

    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = []
        for at, index in starts:
            time.sleep(max(0.0, began + at - time.monotonic()))
            futures.append(pool.submit(machine, machines[index]))
        longest = max(len(paths) for paths in machines) * (timeout_s + 1)
        concurrent.futures.wait(futures, timeout=longest + 5)
    return answers


def _ask(host, port, path, timeout_s):
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request('GET', path)
        resp = conn.getresponse()
        resp.read()
        status, error = resp.status, ''
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, type(exc).__name__
    finally:
        conn.close()
    return Answer(path, status, (time.monotonic() - started) * 1000, error)
