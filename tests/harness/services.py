"""Real local services the tests use; never mocked.

Where a service is down a test skips, except when IBC_REQUIRE_SERVICES is
set (``.ci/run`` sets it) or CI is true: then it fails, because a skipped
test is not a passed one.
"""

import os
import shutil
import socket

import pytest

SERVICES = {
    'mariadb': ('127.0.0.1', 3306),
    'postgresql': ('127.0.0.1', 5432),
    'rabbitmq': ('127.0.0.1', 5672),
}


def required():
    """In CI (``.ci/run`` sets IBC_REQUIRE_SERVICES; CI systems set CI)
    nothing may skip."""
    return bool(os.environ.get('IBC_REQUIRE_SERVICES')) or \
        os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def _unavailable(what):
    if required():
        pytest.fail('%s is required (IBC_REQUIRE_SERVICES is set) but is '
                    'not available' % what)
    pytest.skip('%s is not available' % what)


def require(name):
    """Fail or skip unless the service ``name`` accepts connections."""
    host, port = SERVICES[name]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        _unavailable('%s at %s:%d' % (name, host, port))


def require_program(program):
    """Fail or skip unless ``program`` is on PATH; return its path."""
    path = shutil.which(program)
    if path is None:
        _unavailable('the program %s' % program)
    return path
