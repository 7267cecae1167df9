"""MAC -> port -> node, with Ironic's DB objects, and the state gate."""

from ironic.common import states
from ironic import objects

from ironic_boot_config_mw import exception

#: The states in which a node is waiting for its ramdisk to boot.
WAIT_STATES = frozenset([states.DEPLOYWAIT, states.CLEANWAIT,
                         states.INSPECTWAIT, states.RESCUEWAIT,
                         states.SERVICEWAIT])


class NodeLookup:
    """Finds the node that may boot from a MAC address.

    :param restrict: only nodes in :data:`WAIT_STATES` qualify
        (``[api]restrict_boot_config``).
    """

    def __init__(self, restrict=True):
        self.restrict = restrict

    def __call__(self, context, mac):
        """The node owning ``mac``.

        :raises: Ironic NotFound (PortNotFound, NodeNotFound,
            BootConfigNotFound) saying why the node does not qualify.
        """
        port = objects.Port.get_by_address(context, mac)
        if not port.pxe_enabled:
            raise exception.BootConfigNotFound(
                reason='port %s is not PXE-enabled' % port.uuid)
        node = objects.Node.get_by_id(context, port.node_id)
        if self.restrict and node.provision_state not in WAIT_STATES:
            raise exception.BootConfigNotFound(
                reason='node %s is in provision state "%s", not a wait '
                       'state' % (node.uuid, node.provision_state))
        return node
