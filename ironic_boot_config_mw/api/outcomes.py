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

"""What became of a /v1/boot request: an outcome and its cause.

Both come from small fixed sets, so that they can label metrics (a label
must never take a MAC, a node or a message as its value): every failure of
the path maps to one of the causes below, and the generic 404 stays the
same for all of them.
"""

import http.client

from ironic.common import exception as ironic_exception
from keystoneauth1 import exceptions as ksa_exceptions
from oslo_db import exception as db_exception
import oslo_messaging as messaging
import sqlalchemy as sa

from ironic_boot_config_mw import exception

SERVED, NOT_FOUND, REFUSED, FAILED = 'served', 'not_found', 'refused', \
    'failed'

#: Every cause of every outcome.
CAUSES = {
    SERVED: ('none',),
    # Admission said no, before the database (exception.Refused.outcome).
    REFUSED: ('source', 'header', 'rate', 'cap', 'disabled'),
    # The caller's doing: nothing to serve for this MAC and name.
    NOT_FOUND: ('malformed_path', 'unknown_mac', 'not_waiting', 'no_config'),
    # Not the caller's doing: a conductor, a shim, the RPC, the database.
    FAILED: ('no_conductor', 'shim_unavailable', 'shim_error', 'database',
             'unexpected'),
}

#: Exception classes -> outcome and cause; the first that matches wins
#: (NoValidHost is a NotFound; ShimUnavailable an IronicException).
_CLASSES = (
    (exception.MalformedPath, NOT_FOUND, 'malformed_path'),
    (exception.UnknownPort, NOT_FOUND, 'unknown_mac'),
    (exception.NotWaiting, NOT_FOUND, 'not_waiting'),
    (ironic_exception.NoValidHost, FAILED, 'no_conductor'),
    # A provider's or the shim's "nothing to serve".
    (ironic_exception.NotFound, NOT_FOUND, 'no_config'),
    (exception.ShimUnavailable, FAILED, 'shim_unavailable'),
    ((db_exception.DBConnectionError, sa.exc.OperationalError), FAILED,
     'database'),
    # What goes wrong outside this process in normal operation: a shim, a
    # conductor, the RPC, or an error the shim already logged.
    ((OSError, http.client.HTTPException, messaging.MessagingException,
      ksa_exceptions.ClientException, ironic_exception.IronicException),
     FAILED, 'shim_error'),
)


def classify(cause: BaseException) -> tuple[str, str]:
    """``(outcome, cause)`` of the exception that ended a request; anything
    unknown is ``unexpected``: a bug."""
    if isinstance(cause, exception.Refused):
        return REFUSED, cause.outcome.split('.', 1)[1]
    for classes, outcome, why in _CLASSES:
        if isinstance(cause, classes):
            return outcome, why
    return FAILED, 'unexpected'


class Observer:
    """Told of every request's outcome and every call to a shim; this one
    does nothing (the boot API process's metrics override it)."""

    def request(self, outcome: str, cause: str, seconds: float) -> None:
        """A /v1/boot request ended: ``classify``'s pair, its duration."""

    def rpc(self, host: str, outcome: str, seconds: float) -> None:
        """A call to the shim of ring host ``host`` ended: ``answered``,
        ``not_found`` (the shim's "nothing to serve") or ``failed``."""
