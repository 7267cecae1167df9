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

"""The shim's RPC endpoint: ``get_boot_config`` and ``ping``.

Ironic's JSON-RPC server and oslo.messaging publish every public method of
the manager, so it has only those two and the hooks Ironic's service base
calls: ``prepare_host`` (published too, as the conductor's is; it does
nothing) and ``init_host`` (which Ironic's server never publishes).
"""

import time

from ironic.common import exception as ironic_exception
from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import rpc
from ironic_boot_config_mw import takeover
from ironic_boot_config_mw.providers import dispatch

CONF = cfg.CONF
LOG = log.getLogger(__name__)


class ShimManager:
    """Answers ``get_boot_config`` for the nodes of the conductor beside it.

    :param host: ``[DEFAULT]host``, the same as the conductor's.
    :param registry: a :class:`~ironic_boot_config_mw.providers.dispatch.
        ProviderRegistry`; default: the providers of
        ``[DEFAULT]enabled_boot_interfaces``.
    """

    target = messaging.Target(version=rpc.RPC_API_VERSION)
    #: For Ironic's service base: the oslo.messaging topic ...
    topic = rpc.TOPIC
    #: ... and the JSON-RPC options (Ironic 2026.1 and newer).
    json_rpc_conf_group = bc_conf.JSON_RPC_GROUP

    def __init__(self, host, registry=None):
        self.host = host
        self._registry = registry or dispatch.ProviderRegistry(
            CONF.enabled_boot_interfaces)
        self._takeover = takeover.from_conf(CONF, host, self._registry)

    def prepare_host(self):
        """Nothing to prepare (Ironic's service base calls it)."""

    def init_host(self, admin_context=None):
        """Nothing to start (Ironic's service base calls it)."""

    def _start(self):
        """Start the takeover of waiting nodes: before the RPC server
        (private: the RPC servers publish every public method)."""
        if self._takeover is not None:
            self._takeover.start()

    def _stop(self):
        """Stop the takeover (the shim service calls it on stop; private:
        the RPC servers publish every public method)."""
        if self._takeover is not None:
            self._takeover.stop()

    def ping(self, context):
        """The shim is alive: its host, version and what it serves."""
        return rpc.ping_reply(self._registry, self.host)

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
                                              self._registry, boot_interface,
                                              self._takeover)
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
