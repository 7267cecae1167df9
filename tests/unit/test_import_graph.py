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

"""ironic-api with the filter imports no conductor code.

The conductor side (Ironic's drivers, ``conductor.periodics`` and on to
``mdns``, whose zeroconf runs ``ldconfig -p`` at import) costs the API
process memory and start-up time, and its import side effects are the
conductor's. Here a fresh process builds Ironic's API app as ``ironic-api``
and the WSGI hosting do, then imports the filter's modules and builds the
filter for each API transport. What that adds must be this package's
API-side code, the standard library's, or more of a package the API
already uses (SQLAlchemy's SQLite dialect, a keystoneauth plugin): no
Ironic module the API did not load itself, no package of its own.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: This package's modules that ironic-api may load.
API_SIDE = frozenset([
    'ironic_boot_config_mw',
    'ironic_boot_config_mw.api',
    'ironic_boot_config_mw.conf',
    'ironic_boot_config_mw.exception',
    'ironic_boot_config_mw.providers',
    'ironic_boot_config_mw.providers.base',
    'ironic_boot_config_mw.rpc',
    'ironic_boot_config_mw.process',
    'ironic_boot_config_mw.wsgi',
])

# Run as ``python -c SCRIPT CONFIG_FILE``; prints, as JSON, the modules
# the filter added and the top-level packages the API had loaded.
SCRIPT = r'''
import importlib.util
import json
import sys

# As the ironic-api command: its package picks the oslo.service backend
# (2025.2+: threading; 2025.1: eventlet's monkey patching).
if importlib.util.find_spec('ironic.command') is not None:
    import ironic.command.api
else:
    import ironic.cmd.api
from ironic.api import wsgi as ironic_wsgi
from oslo_config import cfg

app = ironic_wsgi.initialize_wsgi_app(argv=['ironic-api', '--config-file',
                                            sys.argv[1]])
ironic_side = set(sys.modules)

from ironic_boot_config_mw.api import middleware
import ironic_boot_config_mw.wsgi
for transport in ('json-rpc', 'oslo'):
    cfg.CONF.set_override('rpc_transport', transport)
    middleware.BootConfigMiddleware(app)
print(json.dumps({'new': sorted(set(sys.modules) - ironic_side),
                  'api_packages': sorted({m.split('.')[0]
                                          for m in ironic_side})}))
'''

CONFIG = '''[DEFAULT]
auth_strategy = noauth
rpc_transport = json-rpc
transport_url = fake://
[json_rpc]
auth_strategy = noauth
[database]
connection = sqlite:///%(db)s
[oslo_messaging_notifications]
driver = noop
'''


@pytest.fixture(scope='module')
def imported(tmp_path_factory):
    """What the filter added to ironic-api's modules, in a fresh
    process."""
    tmp = tmp_path_factory.mktemp('import_graph')
    config = tmp / 'ironic.conf'
    config.write_text(CONFIG % {'db': tmp / 'ironic.sqlite'})
    # The test's own tree first, as pytest imports it.
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, '-c', SCRIPT, str(config)],
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_only_api_side_modules_of_this_package(imported):
    ours = {m for m in imported['new']
            if m.split('.')[0] == 'ironic_boot_config_mw'}
    not_api = sorted(m for m in ours if m not in API_SIDE
                     and not m.startswith('ironic_boot_config_mw.api.'))
    assert not_api == [], 'not API-side: %s' % ', '.join(not_api)
    assert 'ironic_boot_config_mw.api.middleware' in ours


def test_no_ironic_module_the_api_did_not_load(imported):
    # e.g. ironic.drivers.modules.pxe_base, ironic.conductor.periodics.
    ironic = [m for m in imported['new'] if m.split('.')[0] == 'ironic']
    assert ironic == [], 'loaded for the filter: %s' % ', '.join(ironic)


def test_no_package_the_api_does_not_use(imported):
    # e.g. zeroconf and ifaddr, which Ironic's mdns imports.
    known = set(imported['api_packages']) | set(sys.stdlib_module_names)
    known.add('ironic_boot_config_mw')
    unknown = sorted({m.split('.')[0] for m in imported['new']} - known)
    assert unknown == [], 'loaded for the filter: %s' % ', '.join(unknown)
