"""Real iPXE firmware boots through the Boot configuration API.

Real ``ironic-api`` (with the filter), two conductors with their own
http_root and HTTP server (A on 127.0.0.2, B on 127.0.0.3), a shim beside
each, MariaDB, ``[pxe]ipxe_use_boot_config_api = True``. QEMU's DHCP hands
out conductor A's root ``boot.ipxe``, which Ironic itself rendered from the
template the shim wrote. Everything is shown from the servers' own request
logs: the HTTP servers' and the filter's log line per request.
"""

import os

import pytest

from tests import services
from tests.functional import cluster as cluster_mod
from tests.functional import vm

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'
UNKNOWN_MAC = '52:54:00:99:99:99'


def mac(n):
    return '52:54:00:30:00:%02x' % n


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    services.require('mariadb')
    vm.require_qemu()
    workdir = str(tmp_path_factory.mktemp('ipxe-vm'))
    c = cluster_mod.IronicCluster(
        workdir, db='mysql', conductor_hosts=[A, B],
        http_host=vm.GUEST_HOST, boot_config_api=True,
        # A real bzImage, so iPXE's "kernel" succeeds and it fetches the
        # ramdisk next, as with a real deploy kernel.
        deploy_kernel=vm.IPXE_KERNEL,
        extra_conf={'pxe': {'ipxe_fallback_script': 'fallback.ipxe'}})
    try:
        c.start()
        c.serve_http()
        with open(os.path.join(c.conductors[A]['http_root'],
                               'fallback.ipxe'), 'w') as f:
            f.write('#!ipxe\necho Ironic fallback script reached\nreboot\n')
        # Nodes until conductor B owns one (the ring decides, bounded).
        c.node_of_b = c.create_node_on(B, map(mac, range(20)))
        c.to_clean_wait([c.node_of_b[0]])
        # An active node (fake deploy): restrict_boot_config refuses it.
        active = c.create_node([mac(50)], deploy_interface='fake')
        c.set_provision_state(active, 'manage')
        c.wait_provision_state([active], 'manageable')
        c.set_provision_state(active, 'provide')
        c.wait_provision_state([active], 'available')
        c.set_provision_state(active, 'active')
        c.wait_provision_state([active], 'active')
        c.active_mac = mac(50)
        yield c
    finally:
        c.stop()


def root_url(c):
    return '%s/boot.ipxe' % c.conductors[A]['http_url']


def api_request(c, mac_, status, since):
    for when, _method, path, got in c.boot_requests():
        # (log times are truncated to the millisecond)
        if (when >= since - 0.001 and got == status
                and path.replace('%3A', ':').lower()
                == '/v1/boot/%s/boot.ipxe' % mac_):
            return when
    return None


def test_root_script_is_ironics_render_of_the_template(cluster):
    for host in (A, B):
        c = cluster.conductors[host]
        with open(os.path.join(c['http_root'], 'boot.ipxe')) as f:
            script = f.read()
        assert 'chain http://%s:%d/v1/boot/${net${boot_config_netid}/mac}' \
               '/boot.ipxe' % (vm.GUEST_HOST, cluster.api_port) in script
        # Ironic rendered it: no Jinja left, stock fallback present.
        assert '{{' not in script and '{%' not in script
        assert 'chain pxelinux.cfg/${net${netid}/mac:hexhyp}' in script
        assert 'chain fallback.ipxe | goto boot_failed' in script


def timeline(cluster, since, title):
    """The requests since ``since``, from each server's own log, in order."""
    events = [(when, 'API  ', '%s %s -> %d' % (method, path, status))
              for when, method, path, status in cluster.boot_requests()
              if when >= since - 0.001]
    for host, name in ((A, 'A    '), (B, 'B    ')):
        events += [(when, name, '%s %s -> %d' % (method, path, status))
                   for when, method, path, status
                   in cluster.http_servers[host].requests if when >= since]
    print('\n%s' % title)
    for when, who, what in sorted(events)[:12]:
        print('  +%6.3fs %s %s' % (when - since, who, what))


def boots_from_b(cluster, macs, since):
    """Root script from A, then the API, then B's kernel and ramdisk."""
    uuid, b_mac = cluster.node_of_b
    a, b = cluster.http_servers[A], cluster.http_servers[B]
    kernel, ramdisk = '/%s/deploy_kernel' % uuid, '/%s/deploy_ramdisk' % uuid

    def done():
        return b.first(ramdisk, since)

    elapsed = vm.boot(macs, root_url(cluster), until=done)
    timeline(cluster, since, 'VM %s, node %s owned by conductor B, booted in '
             '%.1f s:' % (', '.join(macs), uuid, elapsed))
    root = a.first('/boot.ipxe', since)
    api = api_request(cluster, b_mac, 200, since)
    got_kernel, got_ramdisk = b.first(kernel, since), b.first(ramdisk, since)
    assert root and root[1] == 200
    assert api is not None
    assert got_kernel[1] == 200 and got_ramdisk[1] == 200
    assert root[0] <= api + 0.01 <= got_kernel[0] + 0.02 <= got_ramdisk[0] + 1
    # Nothing of this node was fetched from conductor A.
    assert not a.first(kernel) and not a.first(ramdisk)
    return elapsed


def test_vm_boots_from_its_owning_conductor(cluster):
    import time
    since = time.time()
    boots_from_b(cluster, [cluster.node_of_b[1]], since)


def test_second_nic_boots_when_first_is_unknown(cluster):
    import time
    since = time.time()
    boots_from_b(cluster, [UNKNOWN_MAC, cluster.node_of_b[1]], since)
    # The first NIC asked first and got the generic 404.
    assert api_request(cluster, UNKNOWN_MAC, 404, since) is not None
    assert api_request(cluster, UNKNOWN_MAC, 404, since) <= \
        api_request(cluster, cluster.node_of_b[1], 200, since)


def test_active_node_falls_through_to_ironics_fallback(cluster):
    import time
    since = time.time()
    a = cluster.http_servers[A]
    hyphens = cluster.active_mac.replace(':', '-')
    elapsed = vm.boot([cluster.active_mac], root_url(cluster),
                      until=lambda: a.first('/fallback.ipxe', since))
    timeline(cluster, since, 'VM %s, node active (restricted), fallback in '
             '%.1f s:' % (cluster.active_mac, elapsed))
    refused = api_request(cluster, cluster.active_mac, 404, since)
    per_mac = a.first('/pxelinux.cfg/%s' % hyphens, since)
    fallback = a.first('/fallback.ipxe', since)
    assert refused is not None
    assert per_mac and per_mac[1] == 404
    assert fallback[1] == 200
    assert refused <= per_mac[0] + 0.02 <= fallback[0] + 0.02


def test_root_script_survives_conductor_restart_and_prepare(cluster):
    import time
    path = os.path.join(cluster.conductors[A]['http_root'], 'boot.ipxe')
    os.unlink(path)
    cluster.restart_conductor(A)
    # Ironic re-rendered it at start (iPXE interface loaded): the template
    # still links to the API.
    with open(path) as f:
        assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in f.read()
    # ... and again at a prepare_ramdisk (cleaning a new node on A).
    os.unlink(path)
    uuid, _mac = cluster.create_node_on(A, map(mac, range(60, 80)))
    cluster.to_clean_wait([uuid])
    with open(path) as f:
        assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in f.read()
    # A machine still boots through it.
    since = time.time()
    boots_from_b(cluster, [cluster.node_of_b[1]], since)
