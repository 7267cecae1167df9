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

"""Every exception of the package: the API side, the shim and providers."""

from ironic.common import exception


class BootConfigNotFound(exception.NotFound):
    """No boot configuration for this request; every cause maps to a 404.

    Providers raise it for names they do not serve or files that are not
    there. The shim sends every ``NotFound`` to the API as Ironic's own
    ``NotFound`` (see :func:`ironic_boot_config_mw.rpc.wire_not_found`).
    """

    _msg_fmt = 'Boot configuration not available: %(reason)s'


class UnknownPort(BootConfigNotFound):
    """No PXE-enabled port has the MAC (the lookup)."""


class NotWaiting(BootConfigNotFound):
    """The node is not in a state that may boot (the lookup's gate)."""


class ShimUnavailable(exception.IronicException):
    """The API fails a call at once: the shim beside ``host`` failed or
    hangs (see :mod:`ironic_boot_config_mw.api.circuit`).

    An IronicException, so the filter logs it as a fault (no traceback),
    never as Ironic's NotFound (the shim's own "nothing to serve").
    """

    _msg_fmt = ('Shim of conductor %(host)s unavailable since %(since)s: '
                '%(reason)s')
    code = 503


class ProviderLoadError(exception.IronicException):
    """A provider entry point exists but cannot be loaded (start-up only)."""

    _msg_fmt = 'Cannot load boot config provider %(name)s: %(reason)s'


class RootConfigError(Exception):
    """The root template cannot be written as configured (start-up only)."""


class MalformedPath(ValueError):
    """The path is not ``/v1/boot/<MAC>/<NAME>``."""


class Refused(Exception):
    """Admission said no, before the database was touched.

    :param check: the option that refused: ``allowed_source_cidrs``,
        ``rate_limit`` or ``max_concurrent_requests``.
    :param outcome: the metric counted: ``refused.source`` and so on.
    """

    def __init__(self, check, outcome, reason):
        super().__init__(reason)
        self.check = check
        self.outcome = outcome


class BootConfigFailure(Exception):
    """Why the boot path could not answer: ``cause``, what was raised, and
    ``node``, the UUID of the node if the lookup had found one."""

    def __init__(self, cause, node=None):
        super().__init__(str(cause))
        self.cause = cause
        self.node = node
