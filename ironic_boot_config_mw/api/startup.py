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

"""Start-up errors of the filter: one line, and the API does not start.

``ironic-api`` builds Ironic's application (and so this filter) before it
starts serving: an exception there ends the process. The all-in-one
``ironic`` builds it inside a worker of oslo.service's launcher, just after
the conductor started, and the launcher respawns a worker that fails,
forever, while its master process looks healthy to systemd and Kubernetes.
There the error is logged once, the launcher's master is told to stop as on
Ctrl-C (SIGINT: it stops every worker and exits 1), and the worker ends.
"""

import multiprocessing
import os
import signal

from oslo_config import cfg
from oslo_log import log
import oslo_messaging as messaging

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process

LOG = log.getLogger(__name__)

#: What bad configuration raises while the filter is built.
ERRORS = (cfg.Error, ValueError, OSError, messaging.MessagingException,
          exception.ProviderLoadError, exception.RootConfigError)


def refuse(exc):
    """Stop the API for the start-up error ``exc``.

    Re-raised where that alone stops the process (``ironic-api``, a WSGI
    server); in a worker of the all-in-one ``ironic``, raising would only
    have the launcher fork the worker again, so its master is stopped
    instead (see the module).
    """
    launcher = multiprocessing.parent_process()
    if launcher is None or not process.conductor_in_process():
        raise exc
    LOG.critical('The boot configuration API cannot start, so neither can '
                 'this ironic process: %s', exc)
    os.kill(launcher.pid, signal.SIGINT)
    os._exit(1)
