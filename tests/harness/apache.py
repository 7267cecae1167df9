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

"""Apache httpd from Debian's package (apache2), configured by the caller.

Metal3's image runs httpd in front of Ironic: this starts the same server
with the caller's configuration body (Listen lines, virtual hosts) after a
preamble of the harness's own: a server root, pid and logs in ``workdir``,
the modules Metal3's image loads. httpd's workers run as ``www-data``
(httpd refuses root), so what they read must be readable by that user: the
caller's work directory is made traversable.
"""

import os
import shutil

from tests.harness import net
from tests.harness import process

MODULES_DIR = '/usr/lib/apache2/modules'
#: As Metal3's httpd-modules.conf (log_config and unixd are built in here).
MODULES = ['mpm_event', 'mime', 'dir', 'authz_core', 'ssl', 'env', 'proxy',
           'proxy_http', 'slotmem_shm', 'headers', 'authn_core', 'auth_basic',
           'authn_file', 'authz_user', 'access_compat', 'socache_shmcb']
#: The access log, as nginx.LOG_FORMAT, for logs.access_log(): when (epoch
#: seconds, milliseconds), client, request line, status, bytes, time taken.
LOG_FORMAT = '%{sec}t.%{msec_frac}t %h "%r" %>s %b %D'


def available():
    return os.path.exists('/usr/sbin/apache2')


def start(workdir, body, name='httpd', ports=()):
    """httpd with ``body`` after the harness's preamble; waits until it
    accepts connections on each ``(host, port)`` of ``ports``.

    :returns: the :class:`~tests.harness.process.Process`; its access log is
        ``<workdir>/<name>-access.log``.
    """
    root = os.path.join(workdir, name)
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, 'httpd.conf')
    preamble = [
        'ServerRoot %s' % root,
        'ServerName localhost',
        'PidFile %s/httpd.pid' % root,
        'Mutex file:%s default' % root,
        'User www-data',
        'Group www-data',
        'ErrorLog %s/%s-error.log' % (workdir, name),
        'LogLevel warn',
        'LogFormat "%s" timed' % LOG_FORMAT.replace('"', '\\"'),
        'CustomLog %s/%s-access.log timed' % (workdir, name),
        'TypesConfig /etc/mime.types',
    ] + ['LoadModule %s_module %s/mod_%s.so' % (m, MODULES_DIR, m)
         for m in MODULES]
    with open(conf, 'w') as f:
        f.write('\n'.join(preamble) + '\n\n' + body + '\n')
    proc = process.Process(name, [shutil.which('apache2') or
                                  '/usr/sbin/apache2', '-f', conf,
                                  '-DFOREGROUND'],
                           os.path.join(workdir, '%s.log' % name))

    def up():
        if not proc.alive():
            raise RuntimeError('%s exited:\n%s\n%s' % (
                name, proc.log(), _read(os.path.join(
                    workdir, '%s-error.log' % name))))
        return all(net.listening(host, port) for host, port in ports)

    net.wait_for(up, 30, name)
    return proc


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''
