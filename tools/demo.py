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

"""Local demo: an all-in-one Ironic on SQLite with the /v1/boot filter.

Starts ``ironic`` (API + conductor in one process, ``rpc_transport = none``)
with ``[api]middleware = boot_config`` and ``[pxe]ipxe_use_boot_config_api``,
enrolls a few fake-hardware nodes with the ``ipxe`` boot interface, brings
them to ``clean wait`` through real automated cleaning, serves the
conductor's ``http_root`` (with the root ``boot.ipxe`` that links to the API)
the way a real deployment's HTTP server would, and prints what to fetch and,
where QEMU and iPXE are installed, how to boot a real iPXE VM against it.
URLs inside the scripts use 10.0.2.2, this host as a QEMU guest sees it.

Ctrl-C (once or more) stops everything it started and removes its files.

Usage: ``tox -e demo`` or, from the repository's root,
``python -m tools.demo [--check] [--keep]``.
"""

import argparse
import shutil
import signal
import sys
import tempfile
import time

import requests

from tests.harness import cluster as cluster_mod
from tests.harness import macs
from tests.harness import net
from tests.harness import vm

NODES = 3
HOST = '127.0.0.2'
#: Seconds each process gets to stop after SIGTERM before SIGKILL.
STOP_TIMEOUT = 5


def interrupted(signum, frame):
    """The first Ctrl-C (or SIGTERM) stops the demo; later ones are
    ignored, so that nothing interrupts the stopping itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def wait(seconds):
    """Sleep in short steps: a signal that the kernel hands to another
    thread (an HTTP server's) does not end a long sleep of the main thread,
    which alone runs Python's signal handlers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='fetch the printed URLs, then stop')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (configs, logs)')
    parser.add_argument('--max-minutes', type=float, default=240,
                        help='stop by itself after this long (default 240)')
    args = parser.parse_args()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-demo-')
    cluster = None
    try:
        print('Starting an all-in-one Ironic (SQLite) in %s ...' % workdir,
              flush=True)
        cluster = cluster_mod.IronicCluster(
            workdir, db='sqlite', conductor_hosts=[HOST], all_in_one=True,
            rpc_transport='none', api_port=net.preferred_port(6385),
            http_host=vm.GUEST_HOST, boot_config_api=True,
            deploy_kernel=vm.IPXE_KERNEL if vm.ipxe_available() else None)
        cluster.start()
        cluster.serve_http()
        # 52:54:00:12:34:56 and on: QEMU's default MAC first.
        demo_macs = macs.MacAllocator(0x123456)
        nodes = [cluster.client.create_node([demo_macs()], name='demo-%d' % n)
                 for n in range(NODES)]
        print('Enrolled %d fake-hardware nodes; cleaning them into '
              '"clean wait" ...' % NODES, flush=True)
        cluster.client.to_clean_wait(nodes)
        print_usage(cluster, nodes, workdir)
        if args.check:
            check(cluster, nodes)
        else:
            print('Press Ctrl-C to stop.', flush=True)
            wait(args.max_minutes * 60)
    except KeyboardInterrupt:
        print()  # off the line where the terminal echoed ^C
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if cluster is not None:
            cluster.stop(timeout=STOP_TIMEOUT)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        print('Stopped: nothing the demo started is running%s.'
              % ('; kept %s' % workdir if args.keep else ''), flush=True)
    return 0


def local(url):
    """A URL inside the scripts (10.0.2.2, as the VM sees this host), as
    seen from this host."""
    return url.replace(vm.GUEST_HOST, '127.0.0.1')


def root_url(cluster):
    return cluster.conductors[HOST].http_url + '/boot.ipxe'


def check(cluster, nodes):
    """Fetch what the demo prints; fail loudly if anything is off."""
    root = requests.get(local(root_url(cluster)), timeout=10).text
    assert '/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe' in root
    for node in nodes:
        for form in (node.mac, node.mac.replace(':', '-').upper()):
            resp = cluster.client.boot(form)
            assert resp.status_code == 200, resp.text
            assert resp.text.startswith('#!ipxe') and node.uuid in resp.text
        kernel = [line.split()[1] for line in resp.text.splitlines()
                  if line.startswith('kernel ')][0]
        assert requests.get(local(kernel), timeout=10).status_code == 200
    assert cluster.client.boot('52:54:00:00:00:00').status_code == 404
    print('check: OK, every printed URL answered as described', flush=True)
    if vm.ipxe_available():
        since = time.time()
        server = cluster.http_servers[HOST]
        ramdisk = '/%s/deploy_ramdisk' % nodes[0].uuid
        took = vm.boot([nodes[0].mac], root_url(cluster),
                       until=lambda: server.first(ramdisk, since))
        print('check: OK, an iPXE VM as demo-0 fetched the root script, its '
              'script from the API and its kernel and ramdisk in %.1f s'
              % took, flush=True)


def print_usage(cluster, nodes, workdir):
    api = cluster.api_url
    http_url = local(cluster.conductors[HOST].http_url)
    mac = nodes[0].mac
    print('\nReady. Ironic API: %s (auth: noauth), /v1/boot served by '
          'ironic-boot-config-mw.' % api)
    print('Nodes (boot interface ipxe, provision state "clean wait"):')
    for n, node in enumerate(nodes):
        print('  demo-%d  %s  MAC %s' % (n, node.uuid, node.mac))
    print('\nThe root boot.ipxe that static DHCP hands out, rendered by '
          'Ironic;\nit asks the API for each NIC, then falls back like '
          'stock Ironic:')
    print('  curl %s/boot.ipxe' % http_url)
    print('The per-node iPXE script, as iPXE asks for it:')
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (api, mac))
    print('  curl -i %s/v1/boot/%s/boot.ipxe   # %%3A, as iPXE sends ${mac}'
          % (api, mac.replace(':', '%3A')))
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (
        api, nodes[1].mac.replace(':', '-').upper()))
    print('Its kernel, from the conductor\'s http_url (10.0.2.2 in the '
          'script is this host for a VM):')
    print('  curl -I %s/%s/deploy_kernel' % (http_url, nodes[0].uuid))
    print('Every failure is the same 404:')
    print('  curl -i %s/v1/boot/52:54:00:00:00:00/boot.ipxe' % api)
    print('  curl -i %s/v1/boot/%s/grub.cfg' % (api, mac))
    print('Everything else is plain Ironic:')
    print('  curl -s %s/v1/nodes -H "X-OpenStack-Ironic-API-Version: '
          'latest"' % api)
    if vm.ipxe_available():
        print('Boot a real iPXE VM as demo-0 (DHCP hands it the root '
              'script; stop it with Ctrl-A X):')
        print('  timeout 120 qemu-system-x86_64 -kernel %s -m 256 -nographic '
              '-no-reboot -netdev user,id=n0,bootfile=%s -device '
              'virtio-net-pci,netdev=n0,mac=%s,romfile='
              % (vm.IPXE_KERNEL, root_url(cluster), mac))
    print('Logs: %s/*.log' % workdir, flush=True)


if __name__ == '__main__':
    sys.exit(main())
