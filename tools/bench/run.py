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
import datetime
import os
import platform
import sys
import tempfile

from tests.harness import bulk
from tests.harness import cluster as cluster_mod
from tests.harness import load as wrk
from tests.harness import net
from tests.harness import nginx as nginx_mod
from tests.harness import process
from tools.bench import procstat
from tools.bench import storms as storms_mod

ROOT = cluster_mod.ROOT

AUTH = 'Authorization: Basic ' + base64.b64encode(
    b'admin:password').decode()
LATEST = 'X-OpenStack-Ironic-API-Version: latest'
SCRIPT = None  # a real per-node script, read from a conductor


class Service:
    """A process group whose CPU and RSS are measured."""

    def __init__(self, name, pids_fn):
        self.name = name
        self.pids_fn = pids_fn

    def cpu(self):
        return procstat.cpu_seconds(self.pids_fn())

    def rss(self):
        return procstat.rss_mb(self.pids_fn())


# The concurrency cap (default 2) answers the generic 404 beyond it; at 10,
# cheroot's thread count, it never refuses: the rows measure the boot path's
# capacity. tests/functional/test_storm.py measures the default cap.
CAPACITY = {'boot_config': {'max_concurrent_requests': '10'}}


def group(proc):
    return lambda: procstat.group_pids(proc.pid)


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


def measure(name, base_url, paths, services, headers=(), duration=10,
            connections=16):
    before = {s.name: s.cpu() for s in services}
    result = wrk.run(base_url, paths, duration=duration,
                     connections=connections, headers=headers)
    done = max(result['requests'], 1)
    # Only 2xx answers count as served: a refusal is not throughput.
    result['rps'] *= (done - result['non2xx']) / done
    result['cpu_ms'] = {s.name: (s.cpu() - before[s.name]) * 1000 / done
                        for s in services}
    result['name'] = name
    print('%-44s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  '
          'CPU/req %s' % (name, result['rps'], result['p50'], result['p99'],
                          result['non2xx'] + result['socket_errors'],
                          ', '.join('%s %.2f ms' % kv
                                    for kv in result['cpu_ms'].items()
                                    if kv[1] > 0.005)),
          flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=40)
    parser.add_argument('--duration', type=int, default=10)
    parser.add_argument('--connections', type=int, default=16)
    parser.add_argument('--scaling', default='100,1000,10000')
    parser.add_argument('--storm-nodes', type=int, default=1000)
    parser.add_argument('--storm-connections', type=int, default=256)
    parser.add_argument('--out', default=os.path.join(ROOT, 'doc'))
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
    args = parser.parse_args()
    if args.storms_only:
        print('\n'.join(storms_mod.report(storm_rows(args))))
        return 0
    if args.quick:
        args.duration, args.scaling, args.repeat = 3, '100,1000', 1
    global SCRIPT

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
        SCRIPT = c.written_config(real).replace(real.encode(), b'@UUID@')
        nodes = bulk.BulkNodes(c, SCRIPT)
        nodes.grow(args.nodes)
        bare, bare_url = start_bare_cheroot(len(SCRIPT), 10, workdir)
        nginx, nginx_url = nginx_mod.start(
            workdir, '  root %s;\n'
            % c.conductors[c.conductor_hosts[0]].http_root,
            access_log=False)
        procs += [bare, nginx]

        services = [Service('api', group(c.api_process)),
                    Service('api-nofilter', group(stock_api))]
        for cond in c.conductors.values():
            services.append(Service('shim-%d' % cond.index,
                                    group(cond.shim)))
            services.append(Service('conductor-%d' % cond.index,
                                    group(cond.process)))
        services.append(Service('mysqld', lambda: procstat.pids_of(
            'mariadbd') + procstat.pids_of('mysqld')))
        services += [Service('bare-cheroot', group(bare)),
                     Service('nginx', group(nginx))]

        boot_paths = ['/v1/boot/%s/boot.ipxe' % m for m in nodes.macs]
        lookup_paths = ['/v1/lookup?addresses=%s' % m for m in nodes.macs]
        node_paths = ['/v1/nodes/%s' % real]
        file_paths = ['/%s/config' % u for u in nodes.uuids]
        d, conn = args.duration, args.connections
        print('\n%d nodes, %d MACs; wrk -t2 -c%d -d%ds; each row the '
              'median of %d interleaved rounds\n' % (
                  len(nodes.uuids), len(nodes.macs), conn, d, args.repeat),
              flush=True)
        rows = [
            ('GET /v1/boot/<mac>/boot.ipxe (filter)', c.api_url,
             boot_paths, ()),
            ('GET /v1/lookup?addresses=<mac> (stock)', stock_url,
             lookup_paths, [LATEST]),
            ('GET / (stock)', stock_url, ['/'], ()),
            ('bare cheroot app, same body, 10 threads', bare_url, ['/'],
             ()),
            ('nginx, per-node file from http_root', nginx_url, file_paths,
             ()),
            # ~20 ms each (bcrypt): the noisiest pair, hence interleaved.
            ('GET /v1/nodes/<uuid> authenticated, filter', c.api_url,
             node_paths, [AUTH, LATEST]),
            ('GET /v1/nodes/<uuid> authenticated, no filter', stock_url,
             node_paths, [AUTH, LATEST]),
        ]
        runs = rounds(args, rows, services)
        rss = {s.name: s.rss() for s in services}

        scaling, storm = [], None
        for total in [int(x) for x in args.scaling.split(',') if x]:
            if storm is None and total > args.storm_nodes:
                storm = boot_storm(args, nodes, c, services)
            nodes.grow(max(total, len(nodes.uuids)))
            sample = ['/v1/boot/%s/boot.ipxe' % m for m in nodes.macs]
            scaling.append((len(nodes.uuids), rounds(args, [(
                'GET /v1/boot at %d nodes' % len(nodes.uuids), c.api_url,
                sample, ())], services)[0]))
        storm = storm or boot_storm(args, nodes, c, services)
    finally:
        for proc in procs:
            proc.stop()
        c.stop()
    aio = all_in_one(args)
    report(args, runs, scaling, storm, rss, len(SCRIPT), aio,
           storm_rows(args))
    return 0


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
        nodes = bulk.BulkNodes(c, c.written_config(real).replace(
            real.encode(), b'@UUID@'))
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


def all_in_one(args):
    """The all-in-one ironic process on SQLite, rpc_transport = none."""
    workdir = tempfile.mkdtemp(prefix='ironic-boot-config-bench-aio-')
    c = cluster_mod.IronicCluster(workdir, db='sqlite',
                                  conductor_hosts=['127.0.0.2'],
                                  all_in_one=True, rpc_transport='none',
                                  extra_conf=CAPACITY)
    try:
        print('\nAll-in-one ironic, SQLite, rpc_transport = none', flush=True)
        c.start()
        nodes = bulk.BulkNodes(c, SCRIPT)
        nodes.grow(args.nodes)
        services = [Service('ironic', group(c.api_process))]
        return rounds(args, [
            ('all-in-one: GET /v1/boot/<mac>/boot.ipxe', c.api_url,
             ['/v1/boot/%s/boot.ipxe' % m for m in nodes.macs], ()),
            ('all-in-one: GET /v1/lookup?addresses=<mac>', c.api_url,
             ['/v1/lookup?addresses=%s' % m for m in nodes.macs], [LATEST]),
        ], services)
    finally:
        c.stop()


def rounds(args, rows, services):
    """Each row ``args.repeat`` times, rows interleaved: the medians."""
    results = [[] for _row in rows]
    for _round in range(args.repeat):
        for row, (name, url, paths, headers) in enumerate(rows):
            results[row].append(measure(
                name, url, paths, services, headers=headers,
                duration=args.duration, connections=args.connections))
    return [median_run(r) for r in results]


def median_run(results):
    """The run with the median req/s, labelled as such."""
    chosen = dict(sorted(results, key=lambda r: r['rps'])[len(results) // 2])
    if len(results) > 1:
        chosen['name'] += ' (median of %d)' % len(results)
    chosen['all_rps'] = [r['rps'] for r in results]
    return chosen


def boot_storm(args, nodes, c, services):
    nodes.grow(max(args.storm_nodes, len(nodes.uuids)))
    macs = nodes.macs[:2 * args.storm_nodes]
    return measure('boot storm: %d nodes x 2 NICs, %d connections'
                   % (len(macs) // 2, args.storm_connections), c.api_url,
                   ['/v1/boot/%s/boot.ipxe' % m for m in macs], services,
                   duration=args.duration,
                   connections=args.storm_connections)


def pass_through_cost():
    """Seconds the filter adds to a request it passes on (in-process)."""
    import timeit

    from ironic_boot_config_mw.api import middleware

    def app(environ, start_response):
        return [b'']

    mw = middleware.BootConfigMiddleware.__new__(
        middleware.BootConfigMiddleware)
    mw.application = app
    environ = {'PATH_INFO': '/v1/nodes/x', 'REQUEST_METHOD': 'GET'}
    n = 200000
    bare = timeit.timeit(lambda: app(environ, None), number=n) / n
    wrapped = timeit.timeit(lambda: mw(environ, None), number=n) / n
    return wrapped - bare


def machine():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    import ironic.version
    return ('%d cores (%s), %.0f GiB, %s, Python %s, Ironic %s' % (
        os.cpu_count(), cpu,
        os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30,
        platform.platform(), platform.python_version(),
        ironic.version.version_info.release_string()))


def errors(r):
    """How many requests failed, and how: "6 (2 non-2xx, 4 timeouts)"."""
    kinds = [('non-2xx', r['non2xx']), ('timeouts', r['timeouts']),
             ('socket errors', r['socket_errors'] - r['timeouts'])]
    total = r['non2xx'] + r['socket_errors']
    said = ', '.join('%d %s' % (n, kind) for kind, n in kinds if n)
    return '%d (%s)' % (total, said) if total else '0'


def report(args, runs, scaling, storm, rss, body_size, aio, storm_rows):
    by_name = {r['name']: r for r in runs}
    boot = runs[0]
    lookup = runs[1]
    with_filter, without = runs[5], runs[6]
    added = pass_through_cost()
    command = 'tox -e bench' + ''.join(
        ' -- ' + ' '.join(sys.argv[1:]) for _ in sys.argv[1:2])
    lines = [
        '# Performance', '',
        'Generated by `%s` on %s.' % (command.strip(),
                                      datetime.date.today()),
        '', 'Machine: %s.' % machine(), '',
        'Loopback, wrk -t2 -c%d -d%ds, each row the median of %d '
        'interleaved rounds (the storm: one run). A shared 2-core VM: '
        'compare ratios within the run, not absolute numbers. Body: a real '
        'per-node iPXE script, %d bytes.'
        % (args.connections, args.duration, args.repeat, body_size), '',
        '| what | 2xx req/s | p50 ms | p99 ms | errors | CPU per request '
        '(ms) |',
        '| --- | ---: | ---: | ---: | ---: | --- |']
    for r in runs + [s for _n, s in scaling] + [storm] + aio:
        cpu = ', '.join('%s %.2f' % kv for kv in r['cpu_ms'].items()
                        if kv[1] >= 0.01)
        lines.append('| %s | %.0f | %.2f | %.2f | %s | %s |' % (
            r['name'], r['rps'], r['p50'], r['p99'], errors(r), cpu))
    boot_cpu = sum(v for k, v in boot['cpu_ms'].items()
                   if k in ('api', 'shim-0', 'shim-1', 'mysqld'))
    lines += ['', '## Against the targets', '',
              '| target | measured |', '| --- | --- |',
              '| all-in-one: /v1/boot >= 10x /v1/lookup | %.1fx |'
              % (aio[0]['rps'] / aio[1]['rps']),
              '| cluster: /v1/boot >= 5x /v1/lookup | %.1fx |'
              % (boot['rps'] / lookup['rps']),
              '| moonshot: whole path < 3 ms CPU per request | %.2f ms '
              '(API + shims + MariaDB) |' % boot_cpu,
              '| p99 < 100 ms at %d connections | %.1f ms |'
              % (args.connections, boot['p99']),
              '| boot storm: zero errors, p99 < 1 s | %s errors, p99 %.0f ms '
              '|' % (errors(storm), storm['p99']),
              '| p50 at %d nodes <= 1.2x p50 at %d nodes | %.2fx |'
              % (scaling[-1][0], scaling[0][0],
                 scaling[-1][1]['p50'] / scaling[0][1]['p50'])
              if scaling else '| scaling | not run |',
              '| authenticated routes slowed < 1%% by the filter | '
              'in-process: +%.2f us on a %.1f ms request (%.4f%%); wrk '
              'medians %.0f vs %.0f req/s (runs: %s vs %s) |' % (
                  added * 1e6, with_filter['cpu_ms']['api'],
                  100 * added * 1e3 / with_filter['cpu_ms']['api'],
                  with_filter['rps'], without['rps'],
                  '/'.join('%.0f' % x for x in with_filter['all_rps']),
                  '/'.join('%.0f' % x for x in without['all_rps'])),
              '| shim RSS < 200 MB | %s |' % ', '.join(
                  '%s %.0f MB' % (k, v) for k, v in rss.items()
                  if k.startswith('shim')),
              '', '## Resident memory after the comparison runs (MB)', '',
              '| process | RSS |', '| --- | ---: |']
    lines += ['| %s | %.0f |' % kv for kv in rss.items()]
    lines += [''] + storms_mod.report(storm_rows) + ['']
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'performance-results.md'), 'w') as f:
        f.write('\n'.join(lines))
    plot(args, runs, scaling, by_name)
    print('\n'.join(lines))


def plot(args, runs, scaling, by_name):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    names = [r['name'].replace(' (', '\n(').replace(', ', ',\n', 1)
             for r in runs]
    ax1.barh(names, [r['rps'] for r in runs], color='#4878a8')
    ax1.set_xscale('log')
    ax1.set_xlabel('2xx requests/s (log scale)')
    ax1.invert_yaxis()
    ax1.tick_params(axis='y', labelsize=7)
    for i, r in enumerate(runs):
        ax1.text(r['rps'], i, ' %.0f' % r['rps'], va='center', fontsize=7)
    if scaling:
        counts = [n for n, _r in scaling]
        ax2.plot(counts, [r['p50'] for _n, r in scaling], 'o-', label='p50')
        ax2.plot(counts, [r['p99'] for _n, r in scaling], 's-', label='p99')
        ax2.set_xscale('log')
        ax2.set_xlabel('nodes (2 MACs each)')
        ax2.set_ylabel('GET /v1/boot latency, ms')
        ax2.legend()
        ax2.set_ylim(bottom=0)
    fig.suptitle('ironic-boot-config-mw, wrk -c%d, %ds a run'
                 % (args.connections, args.duration))
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, 'performance.png'), dpi=110)


if __name__ == '__main__':
    sys.exit(main())
