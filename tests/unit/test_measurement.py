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

"""What the bench and the load tests measure with: percentiles, tallies,
wrk's report parsed, the median of rounds."""

import pytest

from tests.harness import load
from tests.harness import stats
from tools.bench import results

# Debian's wrk 4.1 with --latency and load.py's script, against a server
# that has "/" and not "/nope"; the socket errors' line added.
WRK_REPORT = '''\
Running 1s test @ http://127.0.0.1:18777
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.48ms    0.94ms   8.60ms   69.23%
    Req/Sec     1.36k    75.00     1.48k    81.82%
  Latency Distribution
     50%    1.25ms
     75%    2.16ms
     90%    2.71ms
     99%    3.90ms
  2985 requests in 1.10s, 2.79MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 1494
Requests/sec:   2713.63
Transfer/sec:      2.54MB
status 200 1491
status 404 1494
'''


def test_percentile_is_a_latency_some_request_had():
    samples = list(range(1, 101))  # 1 .. 100
    assert stats.p50(samples) == 51
    assert stats.p99(samples) == 100
    assert stats.percentile(samples, 0.9) == 91
    assert stats.p99([7.5]) == 7.5
    # Any iterable, in any order.
    assert stats.p50(x for x in (3, 1, 2)) == 2


def test_percentile_of_nothing_says_so():
    with pytest.raises(ValueError):
        stats.p99([])


def test_tally():
    assert stats.tally([200, 404, 200, 'TimeoutError']) == {
        200: 2, 404: 1, 'TimeoutError': 1}
    assert stats.tally([]) == {}


def test_wrk_report_parsed():
    run = load.WrkRun.parse(WRK_REPORT)
    assert (run.rps, run.requests) == (2713.63, 2985)
    assert (run.p50, run.p99, run.max) == (1.25, 3.90, 8.60)
    assert run.statuses == {200: 1491, 404: 1494}
    assert (run.non2xx, run.socket_errors, run.timeouts) == (1494, 5, 3)
    assert run.errors == 1499
    # Requests without an answer were asked all the same.
    assert run.asked == 2990
    # A 404 is not throughput.
    assert run.served_rps == pytest.approx(2713.63 * 1491 / 2985)


def test_latency_units():
    report = WRK_REPORT.replace('1.25ms', '812.00us').replace(
        '3.90ms', '1.20s')
    run = load.WrkRun.parse(report)
    assert run.p50 == pytest.approx(0.812)
    assert run.p99 == pytest.approx(1200)


def test_median_round_keeps_every_rounds_rate():
    def measured(rps):
        report = WRK_REPORT.replace('2713.63', str(rps)).replace(
            'Non-2xx or 3xx responses: 1494', 'Non-2xx or 3xx responses: 0')
        return results.Measured('boot', load.WrkRun.parse(report), {})

    chosen = results.median([measured(300), measured(100), measured(200)])
    assert chosen.rps == 200
    assert chosen.label == 'boot (median of 3)'
    assert chosen.rounds_rps == [300, 100, 200]
    assert results.median([measured(5)]).label == 'boot'


def test_errors_said_by_kind():
    run = load.WrkRun.parse(WRK_REPORT)
    assert results.Measured('x', run, {}).errors() == (
        '1499 (1494 non-2xx, 3 timeouts, 2 socket errors)')
