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

"""nginx from Debian's package, with the caller's server blocks."""

import os
import shutil

from tests.harness import net
from tests.harness import process

#: The access log: as apache.LOG_FORMAT, for logs.access_log().
LOG_FORMAT = '$msec $remote_addr "$request" $status $body_bytes_sent ' \
    '$request_time'


def start(workdir, server, access_log=True):
    """nginx on a free loopback port with ``server`` as the body of its one
    server block: ``(Process, base URL)``."""
    port = net.free_port()
    proc = start_servers(workdir, ' server {\n  listen 127.0.0.1:%d;\n%s }\n'
                         % (port, server), [('127.0.0.1', port)],
                         access_log=access_log)
    return proc, 'http://127.0.0.1:%d' % port


def start_servers(workdir, servers, ports, access_log=True, name='nginx',
                  nice=0):
    """nginx with the ``servers`` (``server {...}`` blocks) in its ``http``
    block; every path it writes stays under ``workdir``. Waits until it
    accepts connections on each ``(host, port)`` of ``ports``."""
    conf = os.path.join(workdir, '%s.conf' % name)
    temp = ''.join(' %s_temp_path %s;\n' % (kind, workdir) for kind in
                   ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
    with open(conf, 'w') as f:
        # Workers as root: they read the test's http_root and sockets.
        f.write('user root;\nworker_processes 1;\ndaemon off;\n'
                'pid %s/%s.pid;\nerror_log %s/%s-error.log;\n'
                'events { worker_connections 1024; }\n'
                'http {\n log_format timed \'%s\';\n access_log %s;\n'
                ' default_type text/plain;\n%s%s}\n'
                % (workdir, name, workdir, name, LOG_FORMAT,
                   '%s timed' % os.path.join(workdir, '%s-access.log' % name)
                   if access_log else 'off', temp, servers))
    proc = process.Process(name, [shutil.which('nginx') or 'nginx', '-c',
                                  conf, '-p', workdir],
                           os.path.join(workdir, '%s.log' % name),
                           nice=nice)

    def up():
        if not proc.alive():
            raise RuntimeError('%s exited:\n%s' % (name, proc.log()))
        return all(net.listening(host, port) for host, port in ports)

    net.wait_for(up, 30, name)
    return proc
