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

"""The real ``baremetal`` and ``openstack baremetal`` commands, run as an
operator of the cluster runs them."""

import json
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


def run(cluster, *args, program='baremetal', password='password'):
    """The command's CompletedProcess; printed (for ``-rP``). With the
    cluster's ``http_basic``: user ``admin``; with ``noauth``: auth type
    ``none``. Only these ``OS_*`` variables reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_ENDPOINT'] = cluster.api_url
    if cluster.spec.auth_strategy == 'http_basic':
        env.update(OS_AUTH_TYPE='http_basic', OS_USERNAME='admin',
                   OS_PASSWORD=password)
    else:
        env['OS_AUTH_TYPE'] = 'none'
    argv = [os.path.join(BIN, program)]
    if program == 'openstack':
        argv.append('baremetal')
    result = subprocess.run(argv + list(args), env=env, capture_output=True,
                            text=True, timeout=120)
    print('$ %s %s  (exit %d)\n%s%s' % (
        ' '.join(os.path.basename(a) for a in argv), ' '.join(args),
        result.returncode, result.stdout, result.stderr))
    return result


def run_json(cluster, *args, **kwargs):
    """``run(... -f json)``: its output, parsed (it must succeed)."""
    result = run(cluster, *(args + ('-f', 'json')), **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
