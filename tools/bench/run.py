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

"""Benchmark: the boot path against every in-API alternative, in ONE run.

Stands up real processes on loopback (ironic-api with the filter, a second
ironic-api without it, 2 conductors, 2 shims, MariaDB), puts N nodes with
2 NICs each in ``clean wait``, and measures with wrk, side by side:

* ``GET /v1/boot/<mac>/boot.ipxe`` over all MACs (the filter);
* stock ``GET /v1/lookup?addresses=<mac>`` and ``GET /``;
* a bare cheroot WSGI app (Ironic's server, same threads, same body size);
* nginx serving the same per-node file from http_root (the old approach);
* authenticated ``GET /v1/nodes/<uuid>`` with and without the filter;

then a scaling run (p50/p99 at 100 / 1,000 / 10,000 nodes) and a boot
storm (1,000 nodes x 2 NICs at 256 connections); then, on a cluster of
their own, the boot storms of ``storms.py`` against the filter with its
defaults, one boot API process and two behind nginx. Reports req/s,
p50/p99, errors, CPU per request and RSS of each process, as
``doc/performance-results.md`` (markdown) and ``doc/performance.png``.
Every run is bounded; everything it started is stopped.

Usage: ``tox -e bench`` or, from the repository's root,
``python -m tools.bench.run [--quick] [--storms-only]`` (the latter prints
the storm rows and writes nothing).
"""

import argparse
import base64
import os
import sys
import tempfile

from tests.harness import bulk
from tests.harness import cluster as cluster_mod
from tests.harness import load
from tests.harness import net
from tests.harness import nginx as nginx_mod
from tests.harness import process
from tools.bench import procstat
from tools.bench import report
from tools.bench import results
from tools.bench import storms as storms_mod

AUTH = 'Authorization: Basic ' + base64.b64encode(
    b'admin:password').decode()
LATEST = 'X-OpenStack-Ironic-API-Version: latest'

# The concurrency cap (default 2) answers the generic 404 beyond it; at 10,
# cheroot's thread count, it never refuses: the rows measure the boot path's
# capacity. tests/functional/test_storm.py measures the default cap.
CAPACITY = {'boot_config': {'max_concurrent_requests': '10'}}


class Service:
    """A process group whose CPU and RSS are measured."""

    def __init__(self, name, pids):
        self.name = name
        self.pids = pids

    @classmethod
    def group(cls, name, proc):
        return cls(name, lambda: procstat.group_pids(proc.pid))

    def cpu(self):
        return procstat.cpu_seconds(self.pids())

    def rss(self):
        return procstat.rss_mb(self.pids())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=40)
    parser.add_argument('--duration', type=int, default=10)
    parser.add_argument('--connections', type=int, default=16)
    parser.add_argument('--scaling', default='100,1000,10000')
    parser.add_argument('--storm-nodes', type=int, default=1000)
    parser.add_argument('--storm-connections', type=int, default=256)
    parser.add_argument('--out', default=os.path.join(cluster_mod.ROOT,
                                                      'doc'))
    parser.add_argument('--repeat', type=int, default=3,
                        help='rounds per row; the median is reported')
    parser.add_argument('--quick', action='store_true',
                        help='3 s runs, 1 round, scaling to 1,000 nodes')
    parser.add_argument('--storms-only', action='store_true',
                        help='only the boot storms; print, write nothing')
    parser.add_argument('--storm-waits', nargs='*', type=float,
                        default=[0, 3],
                        help='the filter\'s max_concurrent_wait values '
                             'measured besides the default')
    parser.add_argument('--storm-targets', default='',
                        help='with --storms-only: the front-ends, e.g. bc')
    parser.add_argument('--storm-nice', type=int, default=storms_mod.NICE,
                        help='the boot API processes\' nice')
    parser.add_argument('--storm-shim-nice', type=int, default=0,
                        help='the shims\' nice in the storms')
    parser.add_argument('--storm-boot-api-conf', default='',
                        help='with --storms-only: section.option=value,... '
                             'for the boot API processes')
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.scaling, args.repeat = 3, '100,1000', 1
    return args


def main():
    args = parse_args()
    if args.storms_only:
        print('\n'.join(storms_mod.report(storm_rows(args))))
        return 0
    measured, script = compare(args)
    measured.all_in_one = all_in_one(args, script)
    measured.storms = storm_rows(args)
    report.write(measured, args)
    return 0


def compare(args):
    """The comparison, the scaling and the storm rows on one cluster:
    (:class:`~tools.bench.results.Results` with them, the per-node script
    every bench node serves)."""
    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-bench-')
    c = cluster_mod.IronicCluster(workdir, db='mysql',
                                  auth_strategy='http_basic',
                                  extra_conf=CAPACITY)
    procs = []
    try:
        print('Starting ironic-api (+ one without the filter), 2 conductors, '
              '2 shims, MariaDB in %s' % workdir, flush=True)
        c.start()
        stock_url, stock_api = c.start_extra_api(
            'api-nofilter', {'api': {'middleware': ''}})
        # One real node through real cleaning: its script is the model of
        # every bench node's, its UUID the target of GET /v1/nodes/<uuid>.
        real = c.client.create_node().uuid
        c.client.to_clean_wait([real])
        nodes = bulk.BulkNodes.like(c, real)
        nodes.grow(args.nodes)
        bare, bare_url = start_bare_cheroot(len(nodes.script), 10, workdir)
        nginx, nginx_url = nginx_mod.start(
            workdir, '  root %s;\n'
            % c.conductors[c.conductor_hosts[0]].http_root,
            access_log=False)
        procs += [bare, nginx]
        services = cluster_services(c, stock_api, bare, nginx)

        print('\n%d nodes, %d MACs; wrk -t2 -c%d -d%ds; each row the '
              'median of %d interleaved rounds\n' % (
                  len(nodes.uuids), len(nodes.macs), args.connections,
                  args.duration, args.repeat), flush=True)
        comparison = rounds(args, comparison_rows(
            c.api_url, stock_url, bare_url, nginx_url, nodes, real),
            services)
        rss = {s.name: s.rss() for s in services}

        scaling, storm = [], None
        for total in [int(x) for x in args.scaling.split(',') if x]:
            if storm is None and total > args.storm_nodes:
                storm = boot_storm(args, nodes, c, services)
            nodes.grow(max(total, len(nodes.uuids)))
            row = results.Row('scaling', 'GET /v1/boot at %d nodes'
                              % len(nodes.uuids), c.api_url,
                              ['/v1/boot/%s/boot.ipxe' % m
                               for m in nodes.macs])
            scaling.append((len(nodes.uuids),
                            rounds(args, [row], services)['scaling']))
        storm = storm or boot_storm(args, nodes, c, services)
    finally:
        for proc in procs:
            proc.stop()
        c.stop()
    return results.Results(comparison, scaling, storm, rss,
                           len(nodes.script)), nodes.script


def comparison_rows(api_url, stock_url, bare_url, nginx_url, nodes, real):
    """The rows of the comparison, each named by its key."""
    Row = results.Row
    return [
        Row('boot', 'GET /v1/boot/<mac>/boot.ipxe (filter)', api_url,
            ['/v1/boot/%s/boot.ipxe' % m for m in nodes.macs]),
        Row('lookup', 'GET /v1/lookup?addresses=<mac> (stock)', stock_url,
            ['/v1/lookup?addresses=%s' % m for m in nodes.macs], (LATEST,)),
        Row('root', 'GET / (stock)', stock_url, ['/']),
        Row('cheroot', 'bare cheroot app, same body, 10 threads', bare_url,
            ['/']),
        Row('nginx', 'nginx, per-node file from http_root', nginx_url,
            ['/%s/config' % u for u in nodes.uuids]),
        # ~20 ms each (bcrypt): the noisiest pair, hence interleaved.
        Row('nodes_filter', 'GET /v1/nodes/<uuid> authenticated, filter',
            api_url, ['/v1/nodes/%s' % real], (AUTH, LATEST)),
        Row('nodes_stock', 'GET /v1/nodes/<uuid> authenticated, no filter',
            stock_url, ['/v1/nodes/%s' % real], (AUTH, LATEST)),
    ]


def cluster_services(c, stock_api, bare, nginx):
    services = [Service.group('api', c.api_process),
                Service.group('api-nofilter', stock_api)]
    for cond in c.conductors.values():
        services += [Service.group('shim-%d' % cond.index, cond.shim),
                     Service.group('conductor-%d' % cond.index,
                                   cond.process)]
    services.append(Service('mysqld', lambda: procstat.pids_of(
        'mariadbd') + procstat.pids_of('mysqld')))
    return services + [Service.group('bare-cheroot', bare),
                       Service.group('nginx', nginx)]


def start_bare_cheroot(body_size, threads, workdir):
    port = net.free_port()
    code = (
        'import sys\n'
        'from cheroot import wsgi\n'
        'body = b"x" * %d\n'
        'def app(environ, start_response):\n'
        '    start_response("200 OK", [("Content-Type", "text/plain"),\n'
        '                              ("Content-Length", str(len(body)))])\n'
        '    return [body]\n'
        'server = wsgi.Server(("127.0.0.1", %d), app, numthreads=%d)\n'
        'server.start()\n' % (body_size, port, threads))
    proc = process.Process('bare-cheroot', [sys.executable, '-c', code],
                           os.path.join(workdir, 'bare-cheroot.log'))
    net.wait_for(lambda: net.listening('127.0.0.1', port), 30,
                 'bare cheroot')
    return proc, 'http://127.0.0.1:%d' % port


def measure(label, url, paths, services, headers=(), duration=10,
            connections=16):
    before = {s.name: s.cpu() for s in services}
    run = load.run(url, paths, duration=duration, connections=connections,
                   headers=headers)
    done = max(run.requests, 1)
    measured = results.Measured(
        label, run, {s.name: (s.cpu() - before[s.name]) * 1000 / done
                     for s in services})
    print('%-44s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  '
          'CPU/req %s' % (label, measured.rps, run.p50, run.p99, run.errors,
                          ', '.join('%s %.2f ms' % kv
                                    for kv in measured.cpu_ms.items()
                                    if kv[1] > 0.005)),
          flush=True)
    return measured


def rounds(args, rows, services):
    """Each row ``args.repeat`` times, rows interleaved: ``{key: the
    median round}``."""
    measured = {row.key: [] for row in rows}
    for _round in range(args.repeat):
        for row in rows:
            measured[row.key].append(measure(
                row.label, row.url, row.paths, services, headers=row.headers,
                duration=args.duration, connections=args.connections))
    return {key: results.median(runs) for key, runs in measured.items()}


def boot_storm(args, nodes, c, services):
    nodes.grow(max(args.storm_nodes, len(nodes.uuids)))
    macs = nodes.macs[:2 * args.storm_nodes]
    return measure('boot storm: %d nodes x 2 NICs, %d connections'
                   % (len(macs) // 2, args.storm_connections), c.api_url,
                   ['/v1/boot/%s/boot.ipxe' % m for m in macs], services,
                   duration=args.duration,
                   connections=args.storm_connections)


def storm_rows(args):
    """The boot storms (storms.py) on a cluster of their own."""
    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-bench-storms-')
    c = cluster_mod.IronicCluster(workdir, db='mysql',
                                  auth_strategy='http_basic',
                                  shim_nice=args.storm_shim_nice)
    try:
        print('\nBoot storms: ironic-api, 2 conductors, 2 shims, MariaDB, '
              'in %s' % workdir, flush=True)
        c.start()
        real = c.client.create_node().uuid
        c.client.to_clean_wait([real])
        nodes = bulk.BulkNodes.like(c, real)
        nodes.grow(1000)
        conf = {}
        for item in filter(None, args.storm_boot_api_conf.split(',')):
            key, value = item.split('=', 1)
            section, option = key.split('.', 1)
            conf.setdefault(section, {})[option] = value
        return storms_mod.run(c, nodes.macs[:2000], cluster_mod.ADMIN,
                              waits=args.storm_waits,
                              only=args.storm_targets if args.storms_only
                              else '', nice=args.storm_nice,
                              boot_api_conf=conf)
    finally:
        c.stop()


def all_in_one(args, script):
    """The all-in-one ironic process on SQLite, rpc_transport = none."""
    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-bench-aio-')
    c = cluster_mod.IronicCluster(workdir, db='sqlite',
                                  conductor_hosts=['127.0.0.2'],
                                  all_in_one=True, rpc_transport='none',
                                  extra_conf=CAPACITY)
    try:
        print('\nAll-in-one ironic, SQLite, rpc_transport = none', flush=True)
        c.start()
        nodes = bulk.BulkNodes(c, script)
        nodes.grow(args.nodes)
        return rounds(args, [
            results.Row('boot', 'all-in-one: GET /v1/boot/<mac>/boot.ipxe',
                        c.api_url,
                        ['/v1/boot/%s/boot.ipxe' % m for m in nodes.macs]),
            results.Row('lookup',
                        'all-in-one: GET /v1/lookup?addresses=<mac>',
                        c.api_url, ['/v1/lookup?addresses=%s' % m
                                    for m in nodes.macs], (LATEST,)),
        ], [Service.group('ironic', c.api_process)])
    finally:
        c.stop()


if __name__ == '__main__':
    sys.exit(main())
