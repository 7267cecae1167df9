"""Metal3's HA shape: several all-in-one ``ironic`` replicas (API +
conductor each, as ironic-standalone-operator runs them) on 127.0.0.2-.4
over JSON-RPC, one database, a shim beside each.

A request to ANY replica's API returns the owning replica's script, also
through a reverse proxy (nginx) that mounts each replica under a path
prefix (``/instance-N/``), telling Ironic the prefix with
X-Forwarded-Prefix (Ironic sets SCRIPT_NAME from it).
"""

import os
import re

import pytest
import requests

from tests.harness import client
from tests.harness import nginx
from tests.harness import services

pytestmark = pytest.mark.slow

REPLICAS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('metal3', db='mysql', conductor_hosts=REPLICAS,
                all_in_one=True, api_per_host=True, extra_conf={
                    'oslo_middleware': {'enable_proxy_headers_parsing':
                                        'true'}}) as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """A node in ``clean wait`` on each replica: ``{replica: node}``."""
    nodes = {host: cluster.client.create_node_on(host) for host in REPLICAS}
    cluster.client.to_clean_wait(nodes.values())
    return nodes


@pytest.fixture(scope='module')
def proxy_url(cluster):
    """nginx mounting each replica under ``/instance-N/``."""
    services.require_program('nginx')
    proc, url = nginx.start(cluster.workdir, ''.join(
        '  location /instance-%d/ {\n'
        '    proxy_pass http://%s:%d/;\n'
        '    proxy_set_header X-Forwarded-Prefix /instance-%d;\n'
        '    proxy_set_header X-Forwarded-Host $host:$server_port;\n'
        '  }\n' % (n + 1, host, cluster.api_port, n + 1)
        for n, host in enumerate(REPLICAS)))
    yield url
    proc.stop()


def test_every_replica_owns_a_node(cluster, nodes):
    assert {cluster.owner(n.uuid) for n in nodes.values()} == set(REPLICAS)


def test_any_replica_answers_for_every_node(cluster, nodes):
    for owner, node in nodes.items():
        expected = cluster.written_config(node.uuid, owner)
        for api in REPLICAS:
            resp = client.IronicClient(cluster.api_url_of(api)).boot(
                node.mac)
            assert resp.status_code == 200, (api, owner, resp.text)
            assert resp.content == expected, (api, owner)


def test_through_a_path_prefix(cluster, nodes, proxy_url):
    for owner, node in nodes.items():
        expected = cluster.written_config(node.uuid, owner)
        for n in range(len(REPLICAS)):
            prefix = '%s/instance-%d' % (proxy_url, n + 1)
            resp = requests.get('%s/v1/boot/%s/boot.ipxe'
                                % (prefix, node.mac), timeout=30)
            assert resp.status_code == 200 and resp.content == expected
    assert requests.get('%s/instance-1/v1/boot/52:54:00:ff:ff:ff/boot.ipxe'
                        % proxy_url, timeout=30).status_code == 404
    # Ironic itself saw the prefix: its links carry it (SCRIPT_NAME).
    root = requests.get(proxy_url + '/instance-2/', timeout=30)
    assert '/instance-2/v1' in root.text
    with open(os.path.join(cluster.workdir, 'nginx-access.log')) as f:
        assert 'GET /instance-3/v1/boot/' in f.read()


def test_every_answer_came_from_the_owner(cluster, nodes):
    """Each replica's API log names the host that answered each request."""
    owner_of = {node.uuid: owner for owner, node in nodes.items()}
    seen = 0
    for c in cluster.conductors.values():
        for node, answered in re.findall(
                r': 200, node (\S+), \d+ bytes from (\S+) in',
                c.process.log()):
            assert answered.split(':')[0] == owner_of[node], (c.host, node)
            seen += 1
    assert seen >= len(REPLICAS) ** 2 * 2  # the tests above, all replicas
