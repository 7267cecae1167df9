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
