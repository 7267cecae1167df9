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

"""The shim's RPC service: Ironic's own service base, in this process.

:class:`ShimRPCService` is Ironic's ``BaseRPCService`` (what the conductor
and ``ironic-networking`` run) serving the :class:`~ironic_boot_config_mw.
shim.manager.ShimManager`: JSON-RPC with ``[boot_config_json_rpc]``, or
oslo.messaging on topic ``ironic.boot_config``, server ``[DEFAULT]host``, as
``[DEFAULT]rpc_transport`` says. This module is the only one coupled to
Ironic's service internals.
"""

import inspect

from ironic.common import rpc_service
from ironic.common.json_rpc import server as json_rpc
from oslo_config import cfg
from oslo_log import log
from oslo_utils import netutils

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import rpc
from ironic_boot_config_mw.shim import manager

CONF = cfg.CONF
LOG = log.getLogger(__name__)


class ShimRPCService(rpc_service.BaseRPCService):
    """The shim beside the conductor on ``host`` (``[DEFAULT]host``)."""

    def __init__(self, host):
        super().__init__(host, manager.__name__, 'ShimManager')

    def _real_start(self):
        if CONF.rpc_transport == 'json-rpc' and 'conf_group' not in \
                inspect.signature(json_rpc.WSGIService).parameters:
            # NOTE: before 2026.1 Ironic's JSON-RPC server reads [json_rpc]
            # only. This process serves nothing else over JSON-RPC, so
            # [json_rpc] here becomes ours.
            group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
            for opt in bc_conf.json_rpc_opts():
                CONF.set_override(opt.dest, getattr(group, opt.dest),
                                  'json_rpc')
        self.manager._start()
        super()._real_start()
        if CONF.rpc_transport == 'json-rpc':
            _size_json_rpc_server(getattr(self.rpcserver, 'server', None))
            group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
            where = 'JSON-RPC on %s:%s' % (
                netutils.escape_ipv6(group.host_ip), group.port)
        else:
            where = 'oslo.messaging topic %s, server %s' % (rpc.TOPIC,
                                                            self.host)
        LOG.info('Boot config shim for conductor %(host)s serving %(where)s',
                 {'host': self.host, 'where': where})

    def stop(self, graceful=True):
        self.manager._stop()
        if self.rpcserver is not None:
            self.rpcserver.stop()
            self.rpcserver.wait()
        super().stop(graceful=graceful)
        LOG.info('Boot config shim for conductor %s stopped', self.host)


#: Connections Ironic's JSON-RPC server queues, and keeps alive, for the
#: shim: every thread of every API process (the boot API's 64 and more)
#: keeps one connection to each shim, and a boot storm connects at once.
#: Ironic's server has cheroot's defaults (a backlog of 5, 10 idle
#: keep-alive connections): beyond those it resets connections, and a
#: machine gets the 404.
JSON_RPC_BACKLOG = 1024
JSON_RPC_KEEP_ALIVE = 512


def _size_json_rpc_server(server):
    """Size the started cheroot server of Ironic's JSON-RPC service."""
    if not hasattr(server, 'keep_alive_conn_limit'):
        return  # not cheroot (Ironic 2025.1: oslo.service's eventlet)
    server.keep_alive_conn_limit = JSON_RPC_KEEP_ALIVE
    # listen() again on the listening socket: Linux takes the new backlog.
    server.socket.listen(JSON_RPC_BACKLOG)
