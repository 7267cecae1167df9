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


def run(base_url, paths, duration=10, connections=16, threads=2,
        headers=(), timeout_s=5, think_ms=0):
    """Run wrk; return req/s, p50/p99 (ms), requests, errors, and
    ``statuses``: {HTTP status: count}. ``think_ms``: each connection waits
    that long after a response before its next request (0: back to back).
    """
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
    result = {
        'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
        'requests': int(re.search(r'(\d+) requests in', out).group(1)),
        'p50': _ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1)),
        'p99': _ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1)),
        # The slowest answered request (wrk's Thread Stats: avg, stdev, max).
        'max': _ms(re.search(r'^\s+Latency\s+\S+\s+\S+\s+(\S+)', out,
                             re.M).group(1)),
        'non2xx': 0, 'socket_errors': 0, 'timeouts': 0, 'raw': out,
        'statuses': {int(status): int(count) for status, count in
                     re.findall(r'^status (\d+) (\d+)$', out, re.M)},
    }
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if m:
        result['non2xx'] = int(m.group(1))
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), '
                  r'timeout (\d+)', out)
    if m:
        result['socket_errors'] = sum(int(x) for x in m.groups())
        result['timeouts'] = int(m.group(4))
    return result


class Answer(typing.NamedTuple):
    """What one machine's request got: ``status`` (None: no answer, then
    ``error`` says why) after ``ms`` milliseconds."""

    path: str
    status: typing.Optional[int]
    ms: float
    error: str = ''


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
