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

"""WSGI entry point: Ironic's API application behind the boot_config filter.

For Ironic releases without ``[api]middleware`` (2025.1, 2025.2), or for any
WSGI server, deploy this module the way Ironic's own ``ironic.wsgi`` is
deployed (uWSGI, mod_wsgi, gunicorn)::

    IRONIC_CONFIG_FILE=/etc/ironic/ironic.conf \\
        gunicorn -w 1 -b 0.0.0.0:6385 ironic_boot_config_mw.wsgi:application

The configuration comes from ``IRONIC_CONFIG_FILE`` and
``IRONIC_CONFIG_DIR`` (else Ironic's default files), never from the WSGI
server's own command line. With PasteDeploy,
``etc/ironic-boot-config-mw/api-paste.ini`` builds the same pipeline from
:func:`app_factory` and the ``boot_config`` filter.
"""

import importlib.util
import os
import threading

# NOTE: as Ironic's own ironic.wsgi does: 2025.2 and newer (which have the
# ironic.command package) run oslo.service's threading backend.
if importlib.util.find_spec('ironic.command') is not None:
    from oslo_service import backend as _backend
    _backend.init_backend(_backend.BackendType.THREADING)

from ironic.api import wsgi as ironic_wsgi  # noqa: E402
from oslo_config import cfg  # noqa: E402

from ironic_boot_config_mw.api import middleware  # noqa: E402

_lock = threading.Lock()
_application = None


def _argv():
    # Ironic 2026.1 reads these variables itself, older releases do not:
    # say them on the command line Ironic parses (not the server's).
    argv = ['ironic-boot-config-wsgi']
    if os.environ.get('IRONIC_CONFIG_FILE'):
        argv += ['--config-file', os.environ['IRONIC_CONFIG_FILE']]
    if os.environ.get('IRONIC_CONFIG_DIR'):
        argv += ['--config-dir', os.environ['IRONIC_CONFIG_DIR']]
    return argv


def ironic_application():
    """Ironic's API application, configured from IRONIC_CONFIG_FILE."""
    return ironic_wsgi.initialize_wsgi_app(argv=_argv())


def build():
    """Ironic's application wrapped by the filter (once, not twice: Ironic
    2026.1+ may already load it through ``[api]middleware``)."""
    app = ironic_application()
    if 'boot_config' in (getattr(cfg.CONF.api, 'middleware', None) or []):
        return app
    return middleware.BootConfigMiddleware(app)


def __getattr__(name):
    # ``application`` is built on first access, not at import: a paste
    # pipeline imports this module only for app_factory.
    global _application
    if name != 'application':
        raise AttributeError(name)
    with _lock:
        if _application is None:
            _application = build()
    return _application


def app_factory(global_conf, **local_conf):
    """PasteDeploy ``paste.app_factory``: Ironic's application alone; the
    pipeline puts the ``boot_config`` filter in front."""
    return ironic_application()
