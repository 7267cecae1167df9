"""The RPC contract between the API and the shim: ONE source of truth.

Both sides import the names below; nothing about the wire is spelled twice.
"""

import base64

from ironic.common import exception

from ironic_boot_config_mw.providers import base

#: oslo.messaging topic of the shims; the server is the conductor's [DEFAULT]host.
TOPIC = 'ironic.boot_config'
#: Version of the shim's RPC API.
#:
#: 1.0 - get_boot_config(context, node_id, name)
#: 1.1 - get_boot_config(..., boot_interface=None): the API passes the boot
#:       interface it read, so a provider that needs no task is served
#:       without one. Upgrade the shims before the APIs.
RPC_API_VERSION = '1.1'
#: The one method the shim exposes.
METHOD = 'get_boot_config'


def to_wire(config):
    """A :class:`BootConfig` as a JSON-safe dict (bodies may be binary)."""
    return {'content_type': config.content_type,
            'body': base64.b64encode(config.body).decode('ascii')}


def from_wire(data):
    """The inverse of :func:`to_wire`."""
    return base.BootConfig(body=base64.b64decode(data['body']),
                           content_type=data['content_type'])


def wire_not_found(exc):
    """Ironic's own ``NotFound`` with the message of ``exc``.

    The JSON-RPC client re-creates only ``ironic.common.exception`` classes
    and oslo.messaging only allowed modules; anything else arrives as an
    "unexpected error" logged at ERROR. The API needs the reason, not the
    class.
    """
    return exception.NotFound(str(exc))
