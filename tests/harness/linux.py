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

"""A real Linux for the firmware tests: Debian's kernel and an initramfs.

The kernel is Debian's (signed for Secure Boot); the initramfs, made here,
holds busybox-static and an ``/init`` that prints on the console what the
machine booted with (``/proc/cmdline``, UEFI or BIOS, the kernel's lockdown
state, the CPU architecture), then powers the machine off.

Packages come from the Debian mirror with ``apt-get download`` (nothing is
installed: the kernel's package would build an initramfs of this host) into
a cache directory, ``$IBC_CACHE`` or ``~/.cache/ironic-boot-config-mw``,
and are unpacked with ``dpkg-deb``.
"""

import functools
import glob
import gzip
import lzma
import os
import re
import subprocess
import tempfile
import urllib.request

from tests.harness import services

CACHE = os.environ.get('IBC_CACHE') or os.path.expanduser(
    '~/.cache/ironic-boot-config-mw')
#: Where packages of another suite than this host's come from.
MIRROR = os.environ.get('IBC_DEBIAN_MIRROR', 'http://deb.debian.org/debian')
#: Every line the initramfs prints starts with it.
MARK = 'IBC-BOOTED'

_INIT = '''#!/bin/busybox sh
b=/bin/busybox
$b mkdir -p /proc /sys
$b mount -t proc proc /proc
$b mount -t sysfs sysfs /sys
$b mount -t securityfs securityfs /sys/kernel/security
echo "%(mark)s cmdline: $($b cat /proc/cmdline)"
if [ -d /sys/firmware/efi ]; then firmware=UEFI; else firmware=BIOS; fi
echo "%(mark)s firmware: $firmware"
echo "%(mark)s lockdown: $($b cat /sys/kernel/security/lockdown)"
echo "%(mark)s arch: $($b uname -m)"
$b poweroff -f
''' % {'mark': MARK}


def _suite(arch, suite):
    """Where packages come from: ``suite`` of :data:`MIRROR` if given, else
    apt for this host's architecture (None), else the mirror's suite of this
    host's release (apt knows no other architecture unless told)."""
    if suite or arch == _host('dpkg', '--print-architecture'):
        return suite
    return _host('sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME')


@functools.lru_cache(maxsize=None)
def _host(*argv):
    return subprocess.run(argv, check=True, timeout=30, capture_output=True,
                          text=True).stdout.strip()


def package_files(package, arch, pattern, suite=None):
    """The files of Debian's ``package`` for ``arch`` matching ``pattern``
    (a glob inside the package), fetched and unpacked once: with apt, or
    from :data:`MIRROR`'s ``suite`` (e.g. ``trixie``; see :func:`_suite`)."""
    suite = _suite(arch, suite)
    root = os.path.join(CACHE, arch, suite or 'apt', package)
    found = sorted(glob.glob(os.path.join(root, pattern.lstrip('/'))))
    if found:
        return found
    services.require_program('dpkg-deb')
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as download:
        if suite:
            _download(package, arch, suite, download)
        else:
            services.require_program('apt-get')
            # As root, apt fetches as _apt, which must be able to write here.
            os.chmod(download, 0o777)
            subprocess.run(['apt-get', 'download', '-q',
                            '%s:%s' % (package, arch)], cwd=download,
                           check=True, timeout=300, capture_output=True)
        for deb in glob.glob(os.path.join(download, '*.deb')):
            subprocess.run(['dpkg-deb', '-x', deb, root], check=True,
                           timeout=300)
    found = sorted(glob.glob(os.path.join(root, pattern.lstrip('/'))))
    if not found:
        raise RuntimeError('%s (%s) has no %s' % (package, arch, pattern))
    return found


@functools.lru_cache(maxsize=None)
def _index(suite, arch):
    """The ``Packages`` index of :data:`MIRROR`'s ``suite``, once."""
    url = '%s/dists/%s/main/binary-%s/Packages.xz' % (MIRROR, suite, arch)
    with urllib.request.urlopen(url, timeout=120) as index:  # nosec B310
        return lzma.decompress(index.read()).decode()


def _stanza(package, arch, suite):
    """``package``'s entry in the ``Packages`` index of ``suite``."""
    for stanza in _index(suite, arch).split('\n\n'):
        if re.search(r'^Package: %s$' % re.escape(package), stanza, re.M):
            return stanza
    raise RuntimeError('%s/%s has no package %s for %s'
                       % (MIRROR, suite, package, arch))


def _download(package, arch, suite, directory):
    """``package``'s .deb from the ``suite`` of :data:`MIRROR`."""
    path = re.search(r'^Filename: (\S+)$', _stanza(package, arch, suite),
                     re.M).group(1)
    target = os.path.join(directory, os.path.basename(path))
    with urllib.request.urlopen('%s/%s' % (MIRROR, path),  # nosec B310
                                timeout=300) as deb, open(target, 'wb') as f:
        f.write(deb.read())


def kernel(arch='amd64', suite=None):
    """Debian's current kernel image for ``arch`` (the package that
    ``linux-image-<arch>`` depends on): its ``vmlinuz``. ``suite``: from
    :data:`MIRROR` (an architecture this host's apt does not have)."""
    suite = _suite(arch, suite)
    if suite:
        depends = _stanza('linux-image-%s' % arch, arch, suite)
    else:
        depends = subprocess.run(
            ['apt-cache', 'depends', 'linux-image-%s:%s' % (arch, arch)],
            check=True, timeout=60, capture_output=True, text=True).stdout
    package = re.search(r'Depends: (linux-image-[^\s,:]+)', depends).group(1)
    return package_files(package, arch, '/boot/vmlinuz-*', suite)[0]


def initramfs(path, arch='amd64', suite=None):
    """Write the reporting initramfs (gzip'd newc cpio) to ``path``."""
    busybox = package_files('busybox-static', arch, '/bin/busybox', suite)[0]
    with open(busybox, 'rb') as f:
        binary = f.read()
    entries = [('dev', 0o040755, b'', 0),
               ('dev/console', 0o020600, b'', (5, 1)),
               ('bin', 0o040755, b'', 0),
               ('bin/busybox', 0o100755, binary, 0),
               ('init', 0o100755, _INIT.encode(), 0)]
    with open(path, 'wb') as f:
        f.write(gzip.compress(_cpio(entries), compresslevel=1))
    return path


def _cpio(entries):
    """The "newc" cpio archive of ``(name, mode, data, rdev)`` entries."""
    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate(
            entries + [('TRAILER!!!', 0, b'', 0)], 1):
        major, minor = rdev or (0, 0)
        encoded = name.encode() + b'\0'
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor,
                  len(encoded), 0)
        out += b'070701' + b''.join(b'%08X' % v for v in fields) + encoded
        out += b'\0' * (-len(out) % 4) + data
        out += b'\0' * (-len(out) % 4)
    return bytes(out)


def report(serial):
    """``{key: value}`` of the initramfs's lines in the console text
    ``serial`` (bytes): empty until it ran."""
    text = serial.decode('utf-8', 'replace')
    return dict(re.findall(r'^%s (\w+): (.*?)\r?$' % MARK, text, re.M))
