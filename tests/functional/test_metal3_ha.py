"""Metal3's HA shape: several all-in-one ``ironic`` replicas (API +
conductor each, as ironic-standalone-operator runs them) on 127.0.0.2-.4
over JSON-RPC, one database, a shim beside each.

A request to ANY replica's API returns the owning replica's script, also
through a reverse proxy (nginx) that mounts each replica under a path
prefix (``/instance-N/``), telling Ironic the prefix with
X-Forwarded-Prefix (Ironic sets SCRIPT_NAME from it).
"""

import os

import pytest
import requests

from tests import services
from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

REPLICAS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    services.require('mariadb')
    workdir = str(tmp_path_factory.mktemp('metal3'))
    c = cluster_mod.IronicCluster(
        workdir, db='mysql', conductor_hosts=REPLICAS, all_in_one=True,
        api_per_host=True, extra_conf={
            'oslo_middleware': {'enable_proxy_headers_parsing': 'true'}})
    try:
        c.start()
        c.nodes = {host: c.create_node_on(
            host, ['52:54:00:a0:%02x:%02x' % (index, n) for n in range(30)])
            for index, host in enumerate(REPLICAS)}
        c.to_clean_wait([u for u, _m in c.nodes.values()])
        c.proxy_url = start_nginx(c, workdir)
        yield c
    finally:
        c.stop()


def start_nginx(c, workdir):
    services.require_program('nginx')
    proc, url = cluster_mod.start_nginx(workdir, ''.join(
        '  location /instance-%d/ {\n'
        '    proxy_pass http://%s:%d/;\n'
        '    proxy_set_header X-Forwarded-Prefix /instance-%d;\n'
        '    proxy_set_header X-Forwarded-Host $host:$server_port;\n'
        '  }\n' % (n + 1, host, c.api_port, n + 1)
        for n, host in enumerate(REPLICAS)))
    c.processes.append(proc)
    return url


def test_every_replica_owns_a_node(cluster):
    assert {cluster.owner(u) for u, _m in cluster.nodes.values()} \
        == set(REPLICAS)


def test_any_replica_answers_for_every_node(cluster):
    for owner, (uuid, mac) in cluster.nodes.items():
        expected = cluster.written_config(uuid, owner)
        for api in REPLICAS:
            resp = cluster.boot(mac, base=cluster.api_url_of(api))
            assert resp.status_code == 200, (api, owner, resp.text)
            assert resp.content == expected, (api, owner)


def test_through_a_path_prefix(cluster):
    for owner, (uuid, mac) in cluster.nodes.items():
        expected = cluster.written_config(uuid, owner)
        for n in range(len(REPLICAS)):
            prefix = '%s/instance-%d' % (cluster.proxy_url, n + 1)
            resp = requests.get('%s/v1/boot/%s/boot.ipxe' % (prefix, mac),
                                timeout=30)
            assert resp.status_code == 200 and resp.content == expected
        assert requests.get('%s/instance-1/v1/boot/52:54:00:a0:ff:ff/'
                            'boot.ipxe' % cluster.proxy_url,
                            timeout=30).status_code == 404
    # Ironic itself saw the prefix: its links carry it (SCRIPT_NAME).
    root = requests.get(cluster.proxy_url + '/instance-2/', timeout=30)
    assert '/instance-2/v1' in root.text
    access = open(os.path.join(cluster.workdir, 'nginx-access.log')).read()
    assert 'GET /instance-3/v1/boot/' in access


def test_every_answer_came_from_the_owner(cluster):
    """Each replica's API log names the host that answered each request."""
    import re
    owner_of = {uuid: owner for owner, (uuid, _m) in cluster.nodes.items()}
    seen = 0
    for host in REPLICAS:
        log = cluster.conductors[host]['process'].log()
        for node, answered in re.findall(
                r': 200, node (\S+), \d+ bytes from (\S+) in', log):
            assert answered.split(':')[0] == owner_of[node], (host, node)
            seen += 1
    assert seen >= len(REPLICAS) ** 2 * 2  # the tests above, all replicas
