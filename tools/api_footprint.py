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

"""What the filter adds to ironic-api: start-up time, memory, modules.

Each run is a fresh process that builds Ironic's API app as the WSGI
hosting does (``ironic.api.wsgi.initialize_wsgi_app``, after the
``ironic-api`` command's own imports), then imports and builds the filter
around it, as ``ironic_boot_config_mw.wsgi`` does. Prints the median of
the runs for each tree given (``PYTHONPATH`` order: the tree's filter)::

    python tools/api_footprint.py --runs 7 /tmp/before /tmp/after

Needs Ironic and this package's requirements (``.tox/unit``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CONFIG = '''[DEFAULT]
auth_strategy = noauth
rpc_transport = json-rpc
[json_rpc]
auth_strategy = noauth
[database]
connection = sqlite:///%(db)s
'''

# One run: ``python -c RUN CONFIG_FILE``; prints JSON.
RUN = r'''
import importlib.util
import json
import resource
import sys
import time


def stamp():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open('/proc/self/status') as f:
        rss = next(int(line.split()[1]) for line in f
                   if line.startswith('VmRSS:'))
    return {'wall': time.perf_counter(), 'cpu': usage.ru_utime +
            usage.ru_stime, 'rss_kb': rss, 'modules': len(sys.modules)}


start = stamp()
if importlib.util.find_spec('ironic.command') is not None:
    import ironic.command.api
else:
    import ironic.cmd.api
from ironic.api import wsgi as ironic_wsgi

app = ironic_wsgi.initialize_wsgi_app(argv=['ironic-api', '--config-file',
                                            sys.argv[1]])
ironic = stamp()
from ironic_boot_config_mw.api import middleware
imported = stamp()
app = middleware.BootConfigMiddleware(app)
built = stamp()
print(json.dumps({'start': start, 'ironic': ironic, 'imported': imported,
                  'built': built, 'filter': middleware.__file__}))
'''


def run(tree, config):
    # (In the tree: ``python -c`` puts the current directory first.)
    env = dict(os.environ, PYTHONPATH=tree)
    proc = subprocess.run([sys.executable, '-c', RUN, config], cwd=tree,
                          env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    result = json.loads(proc.stdout.splitlines()[-1])
    if not result['filter'].startswith(os.path.join(tree, '')):
        raise RuntimeError('%s: the filter came from %s' % (tree,
                                                            result['filter']))
    return result


def figures(r):
    """One run's figures."""
    s, i, m, b = r['start'], r['ironic'], r['imported'], r['built']
    return {
        'Ironic app, wall s': i['wall'] - s['wall'],
        'Ironic app, CPU s': i['cpu'] - s['cpu'],
        'filter import, wall ms': (m['wall'] - i['wall']) * 1000,
        'filter import + build, wall ms': (b['wall'] - i['wall']) * 1000,
        'filter import + build, CPU ms': (b['cpu'] - i['cpu']) * 1000,
        'RSS with the filter, MB': b['rss_kb'] / 1024,
        'RSS the filter adds, MB': (b['rss_kb'] - i['rss_kb']) / 1024,
        'modules the filter adds': b['modules'] - i['modules'],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('trees', nargs='+',
                        help='source trees whose filter to measure')
    args = parser.parse_args(argv)
    args.trees = [os.path.abspath(tree) for tree in args.trees]
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, 'ironic.conf')
        with open(config, 'w') as f:
            f.write(CONFIG % {'db': os.path.join(tmp, 'ironic.sqlite')})
        runs = {tree: [] for tree in args.trees}
        # Interleaved: the machine's load falls on every tree alike.
        for _ in range(args.runs):
            for tree in args.trees:
                runs[tree].append(figures(run(tree, config)))
    print('median of %d runs | %s' % (args.runs, ' | '.join(args.trees)))
    for key in runs[args.trees[0]][0]:
        print('%s | %s' % (key, ' | '.join(
            '%.3g' % statistics.median(r[key] for r in runs[tree])
            for tree in args.trees)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
