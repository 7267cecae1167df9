"""Local demo: an all-in-one Ironic on SQLite with the /v1/boot filter.

Starts ``ironic`` (API + conductor in one process, ``rpc_transport = none``)
with ``[api]middleware = boot_config``, enrolls a few fake-hardware nodes
with the ``ipxe`` boot interface, brings them to ``clean wait`` through real
automated cleaning, serves the conductor's ``http_root`` the way a real
deployment's HTTP server would, and prints what to fetch. Ctrl-C stops
everything it started.

Usage: ``tox -e demo`` (or ``python tools/demo.py [--check] [--keep]``).
"""

import argparse
import functools
import http.server
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.functional import cluster as cluster_mod  # noqa: E402

NODES = 3


def mac(n):
    return '52:54:00:12:34:%02x' % (0x56 + n)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def serve_http_root(c, host):
    """What nginx does in a real deployment: serve http_root at http_url."""
    conf = c.conductors[host]
    port = urllib.parse.urlsplit(conf['http_url']).port
    handler = functools.partial(QuietHandler, directory=conf['http_root'])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def preferred_port(port):
    """Ironic's usual port when it is free, else any free one."""
    try:
        with socket.socket() as s:
            s.bind(('127.0.0.1', port))
        return port
    except OSError:
        return cluster_mod.free_port()


def check(c, uuids):
    """Fetch what the demo prints; fail loudly if anything is off."""
    import requests
    for n, uuid in enumerate(uuids):
        for form in (mac(n), mac(n).replace(':', '-').upper()):
            resp = c.boot(form)
            assert resp.status_code == 200, resp.text
            assert resp.text.startswith('#!ipxe') and uuid in resp.text
        kernel = [line.split()[1] for line in resp.text.splitlines()
                  if line.startswith('kernel ')][0]
        assert requests.get(kernel, timeout=10).status_code == 200
    assert c.boot('52:54:00:00:00:00').status_code == 404
    print('check: OK, every printed URL answered as described')


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
    c = cluster_mod.IronicCluster(workdir, db='sqlite',
                                  conductor_hosts=['127.0.0.2'],
                                  all_in_one=True, rpc_transport='none',
                                  api_port=preferred_port(6385))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    server = None
    try:
        print('Starting an all-in-one Ironic (SQLite) in %s ...' % workdir,
              flush=True)
        c.start()
        server = serve_http_root(c, '127.0.0.2')
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
        if server is not None:
            server.shutdown()
        c.stop()
        if args.keep:
            print('Kept %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        print('Stopped; nothing left running.')
    return 0


def print_usage(c, uuids, workdir):
    api = c.api_url
    http_url = c.conductors['127.0.0.2']['http_url']
    print('\nReady. Ironic API: %s (auth: noauth), /v1/boot served by '
          'ironic-boot-config-mw.' % api)
    print('Nodes (boot interface ipxe, provision state "clean wait"):')
    for n, uuid in enumerate(uuids):
        print('  demo-%d  %s  MAC %s' % (n, uuid, mac(n)))
    print('\nThe per-node iPXE script, as iPXE asks for it:')
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (api, mac(0)))
    print('  curl -i %s/v1/boot/%s/boot.ipxe   # %%3A, as iPXE sends ${mac}'
          % (api, mac(0).replace(':', '%3A')))
    print('  curl -i %s/v1/boot/%s/boot.ipxe' % (
        api, mac(1).replace(':', '-').upper()))
    print('Its kernel, from the conductor\'s http_url:')
    print('  curl -I %s/%s/deploy_kernel' % (http_url, uuids[0]))
    print('Every failure is the same 404:')
    print('  curl -i %s/v1/boot/52:54:00:00:00:00/boot.ipxe' % api)
    print('  curl -i %s/v1/boot/%s/grub.cfg' % (api, mac(0)))
    print('Everything else is plain Ironic:')
    print('  curl -s %s/v1/nodes -H "X-OpenStack-Ironic-API-Version: '
          'latest"' % api)
    qemu, lkrn = shutil.which('qemu-system-x86_64'), '/usr/lib/ipxe/ipxe.lkrn'
    if qemu and os.path.exists(lkrn):
        print('Boot a real iPXE VM as demo-0 (QEMU user networking: '
              '10.0.2.2 is this host):')
        print('  timeout 60 %s -kernel %s -m 256 -display none -no-reboot '
              '-serial stdio -netdev user,id=n0,bootfile=http://10.0.2.2:%d'
              '/v1/boot/%s/boot.ipxe -device virtio-net-pci,netdev=n0,'
              'mac=%s,romfile=' % (qemu, lkrn, c.api_port,
                                   mac(0).replace(':', '%3A'), mac(0)))
    print('Logs: %s/*.log' % workdir, flush=True)


if __name__ == '__main__':
    sys.exit(main())
