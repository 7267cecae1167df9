"""The all-in-one ``ironic`` process (API + conductor) on SQLite.

With ``rpc_transport = none`` the filter calls the provider in-process (no
shim); with ``json-rpc`` a shim runs beside it as beside any conductor.
"""


import pytest

from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

MACS = ['52:54:00:20:00:%02x' % n for n in range(3)]


@pytest.fixture(scope='module', params=['none', 'json-rpc'])
def cluster(request, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('aio-%s' % request.param))
    c = cluster_mod.IronicCluster(workdir, db='sqlite',
                                  conductor_hosts=['127.0.0.2'],
                                  all_in_one=True,
                                  rpc_transport=request.param)
    try:
        c.start()
        c.uuids = [c.create_node([m]) for m in MACS]
        c.to_clean_wait(c.uuids)
        yield c
    finally:
        c.stop()


def test_serves_each_nodes_script(cluster):
    for uuid, m in zip(cluster.uuids, MACS):
        expected = cluster.written_config(uuid, '127.0.0.2')
        for form in (m, m.upper().replace(':', '-')):
            resp = cluster.boot(form)
            assert resp.status_code == 200, resp.text
            assert resp.content == expected
        assert b'#!ipxe' in expected and uuid.encode() in expected


def test_refusals_are_404(cluster):
    assert cluster.boot('52:54:00:20:ff:ff').status_code == 404
    assert cluster.boot(MACS[0], 'grub.cfg').status_code == 404


def test_no_shim_with_transport_none(cluster):
    names = {p.name for p in cluster.processes}
    assert ('shim-0' in names) == (cluster.rpc_transport != 'none')
