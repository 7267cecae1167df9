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

"""Self-signed certificates made with openssl, for TLS on loopback."""

import os
import subprocess


def self_signed(directory, addresses, name='cert'):
    """A certificate for the IP ``addresses`` and its key: their paths
    ``(<directory>/<name>.pem, <directory>/<name>-key.pem)``."""
    cert = os.path.join(directory, '%s.pem' % name)
    key = os.path.join(directory, '%s-key.pem' % name)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '1',
                    '-subj', '/CN=%s' % addresses[0], '-addext',
                    'subjectAltName=' + ','.join('IP:%s' % a
                                                 for a in addresses)],
                   check=True, capture_output=True, timeout=60)
    return cert, key
