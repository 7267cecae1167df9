"""The shim's RPC endpoint: ``get_boot_config`` and ``ping``.

Ironic's JSON-RPC server publishes every public method of its manager, so
this class has exactly those two; start-up and shutdown live in
``service.py``.
"""

import time

from ironic.common import exception as ironic_exception
from oslo_log import log
import oslo_messaging as messaging

from ironic_boot_config_mw import rpc
from ironic_boot_config_mw.providers import dispatch

LOG = log.getLogger(__name__)


class BootConfigManager:
    """Answers ``get_boot_config`` for the nodes of the conductor beside it.

    :param registry: a :class:`~ironic_boot_config_mw.providers.dispatch.
        ProviderRegistry`.
    """

    target = messaging.Target(version=rpc.RPC_API_VERSION)

    def __init__(self, registry, host=None):
        self._registry = registry
        self._host = host

    def ping(self, context):
        """The shim is alive: its host, version and what it serves."""
        return rpc.ping_reply(self._registry, self._host)

    @messaging.expected_exceptions(ironic_exception.NotFound)
    def get_boot_config(self, context, node_id, name, boot_interface=None):
        """Return the boot configuration ``name`` of node ``node_id``.

        ``boot_interface``: the node's, as the API read it (RPC 1.1).

        :returns: the configuration in wire form (:func:`rpc.to_wire`).
        :raises: Ironic NotFound, with the reason as its message.
        """
        started = time.monotonic()
        log_args = {'node': node_id, 'name': name}
        try:
            config = dispatch.get_boot_config(context, node_id, name,
                                              self._registry, boot_interface)
        except ironic_exception.NotFound as exc:
            log_args.update(reason=exc, ms=(time.monotonic() - started) * 1e3)
            LOG.info('Boot config %(name)s for node %(node)s: not found: '
                     '%(reason)s (%(ms).1f ms)', log_args)
            raise rpc.wire_not_found(exc) from None
        log_args.update(size=len(config.body),
                        ms=(time.monotonic() - started) * 1e3)
        # The API logs every request at INFO; here only the misses.
        LOG.debug('Boot config %(name)s for node %(node)s: %(size)d bytes '
                  '(%(ms).1f ms)', log_args)
        return rpc.to_wire(config)
