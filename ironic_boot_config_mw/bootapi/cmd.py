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

"""``ironic-boot-config-api --config-file /etc/ironic/ironic.conf``.

The boot API in a process of its own: ``/v1/boot`` exactly as the filter
serves it, and ``/health``, on ``[boot_config_api]``'s address or unix
socket. It reads the same ``ironic.conf`` as ``ironic-api`` (database,
``[DEFAULT]rpc_transport`` and the shims' ``[boot_config_json_rpc]``,
``[boot_config]``); with ``rpc_transport = none`` it runs the providers
itself, so it belongs on the host of the all-in-one ``ironic``. Run as many
as the storm needs, on one host or many, behind a balancer.
"""

# NOTE: first, as Ironic's own commands do: 2025.2 and newer select
# oslo.service's threading backend, 2025.1 monkey-patches eventlet.
try:
    import ironic.command  # noqa: F401,I001
except ImportError:
    import ironic.cmd  # noqa: F401

import sys

from ironic.common import service as ironic_service
from oslo_config import cfg
from oslo_log import log

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import process
from ironic_boot_config_mw.api import startup
from ironic_boot_config_mw.bootapi import app
from ironic_boot_config_mw.bootapi import server

CONF = cfg.CONF
LOG = log.getLogger(__name__)


def main(argv=None):
    argv = sys.argv if argv is None else argv
    bc_conf.register_opts(CONF)
    ironic_service.prepare_service('ironic_boot_config_api', argv)
    try:
        svc = server.BootAPIServer(app.BootAPI(CONF),
                                   getattr(CONF, bc_conf.BOOT_API_GROUP))
        svc.start()
    except startup.ERRORS as exc:
        sys.exit('%s: %s' % (server.NAME, exc))
    return process.serve(svc, CONF)


if __name__ == '__main__':
    sys.exit(main())
