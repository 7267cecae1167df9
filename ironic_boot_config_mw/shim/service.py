"""The shim's RPC service: Ironic's own service base, in this process.

:class:`ShimRPCService` is Ironic's ``BaseRPCService`` (what the conductor
and ``ironic-networking`` run) serving the :class:`~ironic_boot_config_mw.
shim.manager.ShimManager`: JSON-RPC with ``[boot_config_json_rpc]``, or
oslo.messaging on topic ``ironic.boot_config``, server ``[DEFAULT]host``, as
``[DEFAULT]rpc_transport`` says. This module is the only one coupled to
Ironic's service internals.
"""

import inspect
import signal
import threading

from ironic.common import rpc_service
from ironic.common.json_rpc import server as json_rpc
from oslo_config import cfg
from oslo_log import log

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
        super()._real_start()
        if CONF.rpc_transport == 'json-rpc':
            group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
            where = 'JSON-RPC on %s:%s' % (group.host_ip, group.port)
        else:
            where = 'oslo.messaging topic %s, server %s' % (rpc.TOPIC,
                                                            self.host)
        LOG.info('Boot config shim for conductor %(host)s serving %(where)s',
                 {'host': self.host, 'where': where})

    def stop(self, graceful=True):
        if self.rpcserver is not None:
            self.rpcserver.stop()
            self.rpcserver.wait()
        super().stop(graceful=graceful)
        LOG.info('Boot config shim for conductor %s stopped', self.host)


def serve(svc, conf):
    """Serve the started ``svc`` in THIS process until SIGTERM or SIGINT;
    SIGHUP mutates the configuration, as Ironic's services do.

    oslo.service's launcher forks a worker for one service (a second copy
    of the process, ~130 MB); the shim needs none of its machinery.
    """
    stop, mutate = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: mutate.set())
    try:
        # Short waits: the main thread alone runs signal handlers.
        while not stop.wait(1):
            if mutate.is_set():
                mutate.clear()
                conf.mutate_config_files()
    finally:
        svc.stop()
    return 0
