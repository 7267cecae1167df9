"""Local demo: an all-in-one Ironic on SQLite with the /v1/boot filter.

Starts ``ironic`` (API + conductor in one process, ``rpc_transport = none``)
with ``[api]middleware = boot_config`` and ``[pxe]ipxe_use_boot_config_api``,
enrolls a few fake-hardware nodes with the ``ipxe`` boot interface, brings
them to ``clean wait`` through real automated cleaning, serves the
conductor's ``http_root`` (with the root ``boot.ipxe`` that links to the API)
the way a real deployment's HTTP server would, and prints what to fetch and,
where QEMU and iPXE are installed, how to boot a real iPXE VM against it.
URLs inside the scripts use 10.0.2.2, this host as a QEMU guest sees it.
Ctrl-C stops everything it started.

Usage: ``tox -e demo`` (or ``python tools/demo.py [--check] [--keep]``).
"""

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.functional import cluster as cluster_mod  # noqa: E402
from tests.functional import vm  # noqa: E402

NODES = 3


def mac(n):
    return '52:54:00:12:34:%02x' % (0x56 + n)


def preferred_port(port):
    """Ironic's usual port when it is free, else any free one."""
    try:
        with socket.socket() as s:
            s.bind(('127.0.0.1', port))
        return port
    except OSError:
        return cluster_mod.free_port()


def local(url):
    """A URL inside the scripts (10.0.2.2, as the VM sees this host), as
    seen from this host."""
    return url.replace(vm.GUEST_HOST, '127.0.0.1')


def check(c, uuids):
    """Fetch what the demo prints; fail loudly if anything is off."""
    import requests
    root = requests.get(local(root_url(c)), timeout=10).text
    assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in root
    for n, uuid in enumerate(uuids):
        for form in (mac(n), mac(n).replace(':', '-').upper()):
            resp = c.boot(form)
            assert resp.status_code == 200, resp.text
            assert resp.text.startswith('#!ipxe') and uuid in resp.text
        kernel = [line.split()[1] for line in resp.text.splitlines()
                  if line.startswith('kernel ')][0]
        assert requests.get(local(kernel), timeout=10).status_code == 200
    assert c.boot('52:54:00:00:00:00').status_code == 404
    print('check: OK, every printed URL answered as described', flush=True)
    if vm.ipxe_available():
        since = time.time()
        server = c.http_servers['127.0.0.2']
        ramdisk = '/%s/deploy_ramdisk' % uuids[0]
        took = vm.boot([mac(0)], root_url(c),
                       until=lambda: server.first(ramdisk, since))
        print('check: OK, an iPXE VM as demo-0 fetched the root script, its '
              'script from the API and its kernel and ramdisk in %.1f s'
              % took, flush=True)


def root_url(c):
    return c.conductors['127.0.0.2']['http_url'] + '/boot.ipxe'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='fetch the printed URLs, then stop')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (configs, logs)')
    parser.add_argument('--max-minutes', type=float, default=240,
                        help='stop by itself after this long (default 240)')
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-demo-')
    c = cluster_mod.IronicCluster(
        workdir, db='sqlite', conductor_hosts=['127.0.0.2'],
        all_in_one=True, rpc_transport='none',
        api_port=preferred_port(6385), http_host=vm.GUEST_HOST,
        boot_config_api=True,
        deploy_kernel=vm.IPXE_KERNEL if vm.ipxe_available() else None)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        print('Starting an all-in-one Ironic (SQLite) in %s ...' % workdir,
              flush=True)
        c.start()
        c.serve_http()
        uuids = [c.create_node([mac(n)], name='demo-%d' % n)
                 for n in range(NODES)]
        print('Enrolled %d fake-hardware nodes; cleaning them into '
              '"clean wait" ...' % NODES, flush=True)
        c.to_clean_wait(uuids)
        print_usage(c, uuids, workdir)
        if args.check:
            check(c, uuids)
            return 0
        print('Press Ctrl-C to stop.', flush=True)
        time.sleep(args.max_minutes * 60)
    except KeyboardInterrupt:
        pass
    finally:
        print('\nStopping ...', flush=True)
        c.stop()
        if args.keep:
            print('Kept %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        print('Stopped; nothing left running.')
    return 0


def print_usage(c, uuids, workdir):
    api = c.api_url
    http_url = local(c.conductors['127.0.0.2']['http_url'])
    print('\nReady. Ironic API: %s (auth: noauth), /v1/boot served by '
          'ironic-boot-config-mw.' % api)
    print('Nodes (boot interface ipxe, provision state "clean wait"):')
    for n, uuid in enumerate(uuids):
        print('  demo-%d  %s  MAC %s' % (n, uuid, mac(n)))
    print('\nThe root boot.ipxe that static DHCP hands out, rendered by '
          'Ironic;\nit asks the API for each NIC, then falls back like '
          'stock Ironic:')
    print('  curl %s/boot.ipxe' % http_url)
    print('The per-node iPXE script, as iPXE asks for it:')
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (api, mac(0)))
    print('  curl -i %s/v1/boot/%s/boot.ipxe   # %%3A, as iPXE sends ${mac}'
          % (api, mac(0).replace(':', '%3A')))
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (
        api, mac(1).replace(':', '-').upper()))
    print('Its kernel, from the conductor\'s http_url (10.0.2.2 in the '
          'script is this host for a VM):')
    print('  curl -I %s/%s/deploy_kernel' % (http_url, uuids[0]))
    print('Every failure is the same 404:')
    print('  curl -i %s/v1/boot/52:54:00:00:00:00/boot.ipxe' % api)
    print('  curl -i %s/v1/boot/%s/grub.cfg' % (api, mac(0)))
    print('Everything else is plain Ironic:')
    print('  curl -s %s/v1/nodes -H "X-OpenStack-Ironic-API-Version: '
          'latest"' % api)
    if vm.ipxe_available():
        print('Boot a real iPXE VM as demo-0 (DHCP hands it the root '
              'script; stop it with Ctrl-A X):')
        print('  timeout 120 qemu-system-x86_64 -kernel %s -m 256 -nographic '
              '-no-reboot -netdev user,id=n0,bootfile=%s -device '
              'virtio-net-pci,netdev=n0,mac=%s,romfile='
              % (vm.IPXE_KERNEL, root_url(c), mac(0)))
    print('Logs: %s/*.log' % workdir, flush=True)


if __name__ == '__main__':
    sys.exit(main())
