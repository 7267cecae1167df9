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

"""Real iPXE firmware asks the API again before Ironic's stock part.

When a conductor dies, the new owner of its waiting nodes writes their boot
files a few seconds after the hash ring moves them; a machine that asks in
that window gets the generic 404. ``[boot_config]root_config_retries`` (3
here) and ``root_config_retry_delay`` (2 s here) make the root boot.ipxe ask
again that many rounds before the stock part. Shown from the servers' own
logs: the filter's line per /v1/boot request and the HTTP server's.

* A node whose script is not there yet when the machine powers on (its
  ``<http_root>/<uuid>/config`` removed, written again 3 s after the first
  404, as a new owner writes it): a 404, then a 200, then its kernel.
* A MAC of no node: 1 + 3 rounds of 404, 2 s apart, then the stock part
  and the fallback script, about 3 * 2 s after the first ask.
"""

import os
import time

import pytest

from tests.harness import vm

pytestmark = pytest.mark.slow

A = '127.0.0.2'
RETRIES, DELAY = 3, 2
UNKNOWN_MAC = '52:54:00:ff:99:42'
#: Seconds beyond RETRIES * DELAY: each round's requests (a 404 takes a few
#: ms on loopback), iPXE's timer under emulation, the log's milliseconds.
SLACK = 2.0


@pytest.fixture(scope='module')
def cluster(launch):
    vm.require_qemu()
    with launch('root-retry', db='mysql', conductor_hosts=[A],
                http_host=vm.GUEST_HOST, boot_config_api=True,
                deploy_kernel=vm.IPXE_KERNEL,
                extra_conf={
                    'pxe': {'ipxe_fallback_script': 'fallback.ipxe'},
                    # The test makes a script late by hand: without the
                    # takeover, which would write it again at the miss
                    # (test_failover.py covers the two together).
                    'boot_config': {'root_config_retries': str(RETRIES),
                                    'root_config_retry_delay': str(DELAY),
                                    'takeover_interval': '0'}},
                ) as c:
        c.serve_http()
        with open(os.path.join(c.conductors[A].http_root,
                               'fallback.ipxe'), 'w') as f:
            f.write('#!ipxe\necho Ironic fallback script reached\nreboot\n')
        yield c


def root_url(c):
    return '%s/boot.ipxe' % c.conductors[A].http_url


def api_answers(c, mac, since):
    """``[(when, status)]`` of the API's /v1/boot/<mac>/boot.ipxe lines."""
    return [(r.when, r.status) for r in c.boot_requests(since=since)
            if r.for_mac(mac)]


def write(path, data):
    """Atomically and new: the shim serves no file older than the
    conductor's hold of the node (a moved-back file would be refused)."""
    with open(path + '.tmp', 'wb') as f:
        f.write(data)
    os.replace(path + '.tmp', path)


def test_the_root_config_has_the_bound(cluster):
    with open(os.path.join(cluster.conductors[A].http_root,
                           'boot.ipxe')) as f:
        script = f.read()
    assert 'iseq ${boot_config_round} %d && goto boot_config_done ||' \
        % RETRIES in script
    assert '\nsleep %d\n' % DELAY in script
    assert script.index(':boot_config_done') < script.index(
        'chain pxelinux.cfg/${net${netid}/mac:hexhyp}')


def test_a_script_written_late_is_fetched_in_a_later_round(cluster):
    node = cluster.client.create_node()
    cluster.client.to_clean_wait([node])
    http = cluster.http_servers[A]
    config = cluster.conductors[A].config_path(node.uuid)
    with open(config, 'rb') as f:
        script = f.read()
    os.unlink(config)   # as if its new owner had not written it yet
    kernel = '/%s/deploy_kernel' % node.uuid
    ramdisk = '/%s/deploy_ramdisk' % node.uuid
    since = time.time()
    restored = []

    def until():
        if not restored:
            refused = [w for w, s in api_answers(cluster, node.mac, since)
                       if s == 404]
            if refused and time.time() > refused[0] + 3:
                write(config, script)   # the new owner writes it
                restored.append(time.time())
        return http.first(ramdisk, since)

    try:
        took = vm.boot([node.mac], root_url(cluster), until=until,
                       timeout=60)
    finally:
        if not os.path.exists(config):
            write(config, script)
    vm.timeline(cluster, since, 'VM %s, node %s, its script written %.1f s '
                'after the first 404; booted in %.1f s:' % (
                    node.mac, node.uuid,
                    restored[0] - api_answers(cluster, node.mac, since)[0][0],
                    took))
    answers = api_answers(cluster, node.mac, since)
    statuses = [s for _w, s in answers]
    # 404 (not written yet), maybe another round's, then 200: before the
    # rounds ran out.
    assert statuses[0] == 404 and statuses[-1] == 200, statuses
    assert set(statuses[:-1]) == {404} and len(statuses) <= RETRIES + 1
    served = answers[-1][0]
    assert served >= restored[0] - 0.01
    got_kernel = http.first(kernel, since)
    assert got_kernel.status == 200 and served <= got_kernel.when + 0.02
    # Never the stock part.
    assert not http.first('/fallback.ipxe', since)
    assert not http.first('/pxelinux.cfg/%s' % node.mac.replace(':', '-'),
                          since)


def test_an_unknown_machine_reaches_the_fallback_within_the_bound(cluster):
    http = cluster.http_servers[A]
    since = time.time()
    took = vm.boot([UNKNOWN_MAC], root_url(cluster), timeout=60,
                   until=lambda: http.first('/fallback.ipxe', since))
    answers = api_answers(cluster, UNKNOWN_MAC, since)
    fallback = http.first('/fallback.ipxe', since)
    first, last = answers[0][0], answers[-1][0]
    gaps = [b[0] - a[0] for a, b in zip(answers, answers[1:])]
    vm.timeline(cluster, since, 'VM %s (no node), fallback in %.1f s; API '
                'rounds %s s apart; fallback %.2f s after the first ask '
                '(bound %d * %d s + %.1f s):' % (
                    UNKNOWN_MAC, took, ', '.join('%.2f' % g for g in gaps),
                    fallback.when - first, RETRIES, DELAY, SLACK))
    assert [s for _w, s in answers] == [404] * (RETRIES + 1)
    assert all(DELAY - 0.1 <= gap <= DELAY + SLACK for gap in gaps), gaps
    # The stock part: the per-MAC file, then the fallback script.
    per_mac = http.first('/pxelinux.cfg/%s' % UNKNOWN_MAC.replace(':', '-'),
                         since)
    assert per_mac and per_mac.status == 404 and last <= per_mac.when + 0.02
    assert fallback.status == 200
    assert RETRIES * DELAY - 0.1 <= fallback.when - first \
        <= RETRIES * DELAY + SLACK
