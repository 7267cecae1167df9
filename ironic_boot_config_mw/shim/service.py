"""RPC server wiring of the shim: the only place coupled to Ironic's
service internals (json_rpc server, oslo.messaging server, oslo.service).
"""

import inspect
import signal
import threading

from ironic.common import context as ironic_context
from ironic.common import rpc as ironic_rpc
from ironic.common.json_rpc import server as json_rpc
from ironic.objects import base as objects_base
from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging
from oslo_service import service

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import rpc

CONF = cfg.CONF
LOG = log.getLogger(__name__)


class BootConfigService(service.Service):
    """Serves a :class:`~ironic_boot_config_mw.shim.manager.BootConfigManager`
    over Ironic's ``[DEFAULT]rpc_transport``.

    :param host: ``[DEFAULT]host``, the same as the conductor beside it.
    """

    def __init__(self, host, manager):
        super().__init__()
        self.host = host
        self.manager = manager
        self.rpcserver = None

    def start(self):
        super().start()
        serializer = objects_base.IronicObjectSerializer(is_server=True)
        if CONF.rpc_transport == 'json-rpc':
            self.rpcserver = _json_rpc_server(self.manager, serializer)
            group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
            where = 'JSON-RPC on %s:%s' % (group.host_ip, group.port)
        else:
            target = messaging.Target(topic=rpc.TOPIC, server=self.host)
            self.rpcserver = ironic_rpc.get_server(target, [self.manager],
                                                   serializer)
            where = 'oslo.messaging topic %s, server %s' % (rpc.TOPIC,
                                                            self.host)
        self.rpcserver.start()
        LOG.info('Boot config shim for conductor %(host)s serving %(where)s',
                 {'host': self.host, 'where': where})

    def stop(self, graceful=True):
        if self.rpcserver is not None:
            self.rpcserver.stop()
            self.rpcserver.wait()
        super().stop(graceful=graceful)
        LOG.info('Boot config shim for conductor %s stopped', self.host)


def _json_rpc_server(manager, serializer):
    from_dict = ironic_context.RequestContext.from_dict
    if 'conf_group' in inspect.signature(json_rpc.WSGIService).parameters:
        return json_rpc.WSGIService(manager, serializer, from_dict,
                                    conf_group=bc_conf.JSON_RPC_GROUP)
    # NOTE: Ironic 29.x's server reads [json_rpc] only. This process serves
    # nothing else over JSON-RPC, so [json_rpc] here becomes ours.
    group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
    for opt in bc_conf.json_rpc_opts():
        CONF.set_override(opt.dest, getattr(group, opt.dest), 'json_rpc')
    return json_rpc.WSGIService(manager, serializer, from_dict)


def run(svc, conf):
    """Serve in THIS process until SIGTERM or SIGINT; SIGHUP mutates the
    configuration, as Ironic's services do.

    oslo.service's launcher forks a worker for one service (a second copy
    of the process, ~130 MB); the shim needs none of its machinery.
    """
    stop, mutate = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: mutate.set())
    svc.start()
    try:
        while not stop.wait(1):
            if mutate.is_set():
                mutate.clear()
                conf.mutate_config_files()
    finally:
        svc.stop()
    return 0
