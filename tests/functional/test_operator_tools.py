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

"""What operators see: the baremetal CLI, Prometheus, and which script each
machine was served.

ironic-api with the filter and ``auth_strategy = http_basic``, two
conductors and their shims (JSON-RPC, MariaDB), one
``ironic-boot-config-api`` on the same database, and a real Prometheus
(Debian's) scraping its ``/metrics`` every second. The CLI is the real
``baremetal`` and ``openstack`` entry points, authenticated as operators
authenticate them.
"""

import hashlib

from oslo_utils import netutils
import pytest
import requests

from ironic_boot_config_mw.api import outcomes
from tests.harness import cli
from tests.harness import net
from tests.harness import prometheus as prometheus_mod

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
UNKNOWN = '52:54:00:ff:00:02'


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('operator-tools', db='mysql', conductor_hosts=[A, B],
                auth_strategy='http_basic') as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    return cluster.client.waiting_node_on_each([A, B])


@pytest.fixture(scope='module')
def boot_api(cluster, nodes):
    url, _proc = cluster.start_boot_api('boot-api')
    return url


@pytest.fixture(scope='module')
def prometheus(cluster, boot_api):
    server = prometheus_mod.Prometheus(cluster.workdir,
                                       [boot_api[len('http://'):]])
    cluster.processes.append(server.process)
    server.scraped()
    return server


def boot(url, mac):
    return requests.get('%s/v1/boot/%s/boot.ipxe' % (url, mac), timeout=30)


def host_of(ring_host):
    return netutils.parse_host_port(ring_host)[0]


# -- the CLI -----------------------------------------------------------------

def test_explain_a_waiting_node_and_what_it_was_served(cluster, nodes,
                                                       boot_api):
    node = nodes[A]
    written = cluster.written_config(node.uuid, A)
    assert boot(boot_api, node.mac).content == written

    def recorded():
        answer = cli.run_json(cluster, 'boot', 'config', 'explain', node.mac)
        return answer if answer['last_served_at'] else None
    answer = net.wait_for(recorded, 30, 'the served record')
    assert answer['answer'] == 200 and answer['node'] == node.uuid
    assert answer['provision_state'] == 'clean wait'
    assert host_of(answer['conductor']) == A
    assert answer['bytes'] == len(written)
    assert answer['last_served_name'] == 'boot.ipxe'
    assert answer['last_served_served_by'].startswith(
        'ironic-boot-config-api@')
    assert host_of(answer['last_served_owner']) == A
    assert answer['last_served_sha256'] == hashlib.sha256(
        written).hexdigest()
    assert answer['last_served_bytes'] == len(written)
    assert answer['last_served_source'] == '127.0.0.1'

    # The same through OpenStackClient, and as a table.
    assert cli.run_json(cluster, 'boot', 'config', 'explain', node.mac,
                        program='openstack') == answer
    table = cli.run(cluster, 'boot', 'config', 'explain', node.mac)
    assert table.returncode == 0 and '| answer ' in table.stdout
    # Ironic's own history command lists the record.
    history = cli.run_json(cluster, 'node', 'history', 'list', node.uuid,
                           '--long')
    events = [h['event'] for h in history
              if h['event_type'] == 'boot_config']
    assert len(events) == 1 and events[0].startswith(
        'Served boot.ipxe (%d bytes, sha256 %s) to 127.0.0.1 by '
        'ironic-boot-config-api@' % (len(written),
                                     answer['last_served_sha256']))


def test_explain_an_unknown_mac_and_a_name_not_served(cluster, nodes):
    unknown = cli.run_json(cluster, 'boot', 'config', 'explain', UNKNOWN,
                           '--source', '10.1.2.3')
    assert unknown['answer'] == 404 and unknown['node'] is None
    assert unknown['reason'] == ('UnknownPort: Boot configuration not '
                                 'available: no port has MAC %s' % UNKNOWN)
    assert unknown['source_allowed'] is True
    assert unknown['last_served_at'] is None
    grub = cli.run_json(cluster, 'boot', 'config', 'explain', nodes[B].mac,
                        '--name', 'grub.cfg')
    assert grub['answer'] == 404 and 'grub.cfg is not served' in \
        grub['reason']


def test_a_dead_shim(cluster, nodes):
    shims = cli.run_json(cluster, 'boot', 'config', 'shims')
    assert {host_of(s['Conductor']): s['Alive'] for s in shims} == {
        A: True, B: True}
    assert all('ipxe' in s['Providers'] and s['RPC API Version'] == '1.2'
               for s in shims)
    # B's node booted once, through the filter in Ironic's API.
    assert cluster.client.boot(nodes[B].mac).status_code == 200
    net.wait_for(lambda: cli.run_json(
        cluster, 'boot', 'config', 'explain', nodes[B].mac)[
        'last_served_at'], 30, 'the served record')
    cluster.conductors[B].shim.stop()
    try:
        down = {host_of(s['Conductor']): s for s in cli.run_json(
            cluster, 'boot', 'config', 'shims')}
        assert down[A]['Alive'] is True and down[B]['Alive'] is False
        assert 'onnect' in down[B]['Reason'], down[B]
        cli.run(cluster, 'boot', 'config', 'shims')   # the table, for the log
        answer = cli.run_json(cluster, 'boot', 'config', 'explain',
                              nodes[B].mac)
        assert answer['answer'] == 404 and answer['node'] == nodes[B].uuid
        assert 'ShimUnavailable' in answer['reason'] or \
            'onnect' in answer['reason'], answer['reason']
        # What it was served before: still there, whoever is down now.
        assert answer['last_served_served_by'].startswith('ironic-api@')
        assert host_of(answer['last_served_owner']) == B
    finally:
        cluster.start_shim(B)
        cluster.wait_ready()


def test_authentication_is_ironics(cluster, nodes):
    wrong = cli.run(cluster, 'boot', 'config', 'explain', nodes[A].mac,
                    password='wrong')
    assert wrong.returncode != 0 and 'provision' not in wrong.stdout
    assert '401' in wrong.stderr or 'Unauthorized' in wrong.stderr


# -- Prometheus --------------------------------------------------------------

def counts(server):
    return {dict(labels)['outcome'] + '/' + dict(labels)['cause']: value
            for labels, value in server.query(
                'sum by (outcome, cause) '
                '(ironic_boot_config_requests_total)').items()}


def test_prometheus_sees_what_the_machines_caused(cluster, nodes, boot_api,
                                                  prometheus):
    before = counts(prometheus)
    assert set(before) == {'%s/%s' % (outcome, cause) for outcome, causes
                           in outcomes.CAUSES.items() for cause in causes}
    for _ in range(3):
        for node in nodes.values():
            assert boot(boot_api, node.mac).status_code == 200
    for _ in range(4):
        assert boot(boot_api, UNKNOWN).status_code == 404
    assert requests.get(boot_api + '/v1/boot/zz/boot.ipxe',
                        timeout=30).status_code == 404
    cluster.conductors[B].shim.stop()
    try:
        for _ in range(2):
            assert boot(boot_api, nodes[B].mac).status_code == 404
        expected = dict(before)
        for key, more in (('served/none', 6), ('not_found/unknown_mac', 4),
                          ('not_found/malformed_path', 1)):
            expected[key] += more

        def seen():
            now = counts(prometheus)
            failed = now['failed/shim_error'] + \
                now['failed/shim_unavailable'] - \
                before['failed/shim_error'] - \
                before['failed/shim_unavailable']
            rest = {k: v for k, v in now.items() if not k.startswith(
                'failed/shim_')}
            return (failed == 2 and rest == {
                k: v for k, v in expected.items()
                if not k.startswith('failed/shim_')}) and now
        now = net.wait_for(seen, 30, 'prometheus to see the requests')
        print('PromQL sum by (outcome, cause) '
              '(ironic_boot_config_requests_total), before -> after:')
        for key in sorted(now):
            if now[key] != before[key]:
                print('  %-28s %4d -> %4d' % (key, before[key], now[key]))

        def b_down():
            up = prometheus.query('ironic_boot_config_shim_up')
            return {host_of(dict(k)['shim']): v for k, v in up.items()} \
                == {A: 1.0, B: 0.0}
        net.wait_for(b_down, 30, "prometheus to see B's shim down")
    finally:
        cluster.start_shim(B)
        cluster.wait_ready()
    rpc = prometheus.query('sum by (shim, outcome) '
                           '(ironic_boot_config_rpc_duration_seconds_count)')
    rpc = {(host_of(dict(k)['shim']), dict(k)['outcome']): v
           for k, v in rpc.items()}
    print('PromQL sum by (shim, outcome) '
          '(ironic_boot_config_rpc_duration_seconds_count):', rpc)
    assert rpc[(A, 'answered')] >= 3 and rpc[(B, 'answered')] >= 3
    p99 = prometheus.query(
        'histogram_quantile(0.99, sum by (le) (rate('
        'ironic_boot_config_request_duration_seconds_bucket'
        '{outcome="served"}[1m])))')
    print('PromQL p99 of served requests over 1m:', p99)
    history = prometheus.query('ironic_boot_config_history_records_total')
    assert {dict(k)['result']: v for k, v in history.items()}['written'] >= 2
