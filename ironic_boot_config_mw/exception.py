"""Exceptions shared by the API side, the shim and the providers."""

from ironic.common import exception


class BootConfigNotFound(exception.NotFound):
    """No boot configuration for this request; every cause maps to a 404.

    Providers raise it for names they do not serve or files that are not
    there. The shim sends every ``NotFound`` to the API as Ironic's own
    ``NotFound`` (see :func:`ironic_boot_config_mw.rpc.wire_not_found`).
    """

    _msg_fmt = 'Boot configuration not available: %(reason)s'


class ProviderLoadError(exception.IronicException):
    """A provider entry point exists but cannot be loaded (start-up only)."""

    _msg_fmt = 'Cannot load boot config provider %(name)s: %(reason)s'
