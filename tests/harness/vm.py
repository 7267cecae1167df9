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

"""Real iPXE firmware under QEMU (Debian's qemu-system-x86 and ipxe).

QEMU's user-mode network answers DHCP with the given boot file; inside the
guest 10.0.2.2 is this host's 127.0.0.1, and a ``forwards`` entry makes a
guest address reach another loopback address of this host (QEMU's
``guestfwd``, one socat per connection). BIOS iPXE is ``ipxe.lkrn``; UEFI
iPXE is ``ipxe.efi`` under OVMF (the snponly.efi that Metal3 and Bifrost
hand out needs OVMF's PXE over TFTP first, which is slow and unreliable
under emulation). Every run is bounded; only the QEMU started here is
killed, by its pid.
"""

import os
import re
import shutil
import subprocess
import time

from tests.harness import linux
from tests.harness import services

IPXE_KERNEL = '/usr/lib/ipxe/ipxe.lkrn'
IPXE_EFI = '/usr/lib/ipxe/ipxe.efi'
OVMF = '/usr/share/ovmf/OVMF.fd'
#: OVMF as code and variables apart: fw_cfg switches apply to these.
OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'
OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd'
#: OVMF that enforces Secure Boot (SMM), and variables with Microsoft's
#: keys enrolled and Secure Boot on.
OVMF_CODE_SECURE = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd'
OVMF_VARS_MS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd'
#: UEFI for QEMU's aarch64 ``virt`` machine (Debian's qemu-efi-aarch64).
AAVMF_CODE = '/usr/share/AAVMF/AAVMF_CODE.fd'
AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.fd'
IPXE_SNPONLY = '/usr/lib/ipxe/snponly.efi'
GRUB_MODULES = '/usr/lib/grub/x86_64-efi'
#: How a machine under QEMU's user network reaches this host.
GUEST_HOST = '10.0.2.2'
#: Conductors A and B of the firmware tests (``vm_cluster``).
CONDUCTORS = ('127.0.0.2', '127.0.0.3')
#: QEMU's IPv6 host address for its guest (``ipv6=on``): this host's ::1.
GUEST_HOST6 = 'fec0::2'


def ipxe_available():
    """Whether QEMU and iPXE's firmware are installed (no skip, no fail)."""
    return bool(shutil.which('qemu-system-x86_64')) and os.path.exists(
        IPXE_KERNEL)


def require_qemu():
    qemu = services.require_program('qemu-system-x86_64')
    if not os.path.exists(IPXE_KERNEL):
        services.require_program(IPXE_KERNEL)  # fails or skips, saying why
    return qemu


def require_grub():
    qemu = require_qemu()
    services.require_program('grub-mkimage')
    for path in (OVMF, GRUB_MODULES):
        if not os.path.exists(path):
            services.require_program(path)  # fails or skips, saying why
    return qemu


def require_arm():
    qemu = services.require_program('qemu-system-aarch64')
    for path in (AAVMF_CODE, AAVMF_VARS):
        if not os.path.exists(path):
            services.require_program(path)  # fails or skips, saying why
    return qemu


def build_grub(path, arch='amd64'):
    """A netboot GRUB EFI image, prefix /grub, as the notes' setup: for
    ``arch`` (``amd64``: the installed modules; else Debian's
    ``grub-efi-<arch>-bin``)."""
    platform = {'amd64': 'x86_64-efi', 'arm64': 'arm64-efi'}[arch]
    modules = GRUB_MODULES if arch == 'amd64' else linux.package_files(
        'grub-efi-%s-bin' % arch, arch, '/usr/lib/grub/%s' % platform)[0]
    subprocess.run(['grub-mkimage', '-d', modules, '-O', platform,
                    '-p', '/grub', '-o', path, 'efinet', 'net', 'tftp',
                    'http', 'normal', 'configfile', 'echo', 'test', 'linux',
                    'sleep', 'reboot', 'halt'], check=True, timeout=60)
    return path


def boot(macs, bootfile_url, until, timeout=90, log_path=None, uefi=False,
         forwards=(), ipv6=False):
    """Boot iPXE (BIOS, or ``uefi``) with one virtio NIC per MAC until
    ``until()`` is true. ``forwards``: ``(guest address, port, host
    address, port)`` tuples. ``ipv6``: an IPv6-only network (BIOS), where
    ``GUEST_HOST6`` is this host's ``::1``: QEMU's router advertisements
    give iPXE its address (SLAAC), but its DHCPv6 gives no boot file, so
    iPXE's command line names it.

    :returns: seconds it took; raises TimeoutError after ``timeout``.
    """
    qemu = require_qemu()
    if uefi:
        for path in (OVMF, IPXE_EFI):
            if not os.path.exists(path):
                services.require_program(path)  # fails or skips, saying why
        argv = [qemu, '-bios', OVMF, '-kernel', IPXE_EFI, '-m', '512']
    else:
        argv = [qemu, '-kernel', IPXE_KERNEL, '-m', '256']
    options = 'bootfile=%s' % bootfile_url
    if ipv6:
        argv += ['-append', 'ifconf -c ipv6 net0 && chain %s' % bootfile_url]
        options = 'ipv4=off,ipv6=on'
    if forwards:
        services.require_program('socat')
    for guest, port, host, host_port in forwards:
        # QEMU's option syntax doubles commas; socat takes none here.
        options += ',guestfwd=tcp:%s:%d-cmd:socat - TCP:%s:%d' % (
            guest, port, host, host_port)
    return _run(argv, macs, until, timeout, log_path,
                netdev='user,%s' % options)


def boot_grub(macs, tftp_dir, until, timeout=120, log_path=None,
              bootfile='grubx64.efi', secure_boot=False):
    """UEFI (OVMF) netboots ``bootfile`` from QEMU's TFTP server on
    ``tftp_dir``. ``secure_boot``: OVMF with Secure Boot enforced and
    Microsoft's keys enrolled (Debian's ``.ms`` variables, a fresh copy
    next to ``log_path``), which only boots a signed shim."""
    if not secure_boot:
        argv = [require_grub(), '-bios', OVMF, '-m', '512']
    else:
        argv = [require_qemu(), '-machine', 'q35,smm=on', '-m', '1024',
                '-global', 'driver=cfi.pflash01,property=secure,value=on'
                ] + _pflash(OVMF_CODE_SECURE, OVMF_VARS_MS, log_path)
    return _run(argv, macs, until, timeout, log_path,
                netdev='user,tftp=%s,bootfile=%s' % (tftp_dir, bootfile))


def boot_arm(macs, tftp_dir, bootfile, until, log_path, timeout=180):
    """AAVMF (UEFI of QEMU's aarch64 ``virt`` machine, emulated: TCG)
    netboots ``bootfile`` from QEMU's TFTP server on ``tftp_dir``."""
    argv = [require_arm(), '-machine', 'virt', '-cpu', 'max', '-m', '1024'
            ] + _pflash(AAVMF_CODE, AAVMF_VARS, log_path)
    return _run(argv, macs, until, timeout, log_path,
                netdev='user,tftp=%s,bootfile=%s' % (tftp_dir, bootfile))


def _pflash(code, variables, log_path):
    """UEFI as code and a fresh copy of ``variables`` (next to
    ``log_path``): what the machine writes stays its own."""
    copy = log_path + '.vars.fd'
    shutil.copyfile(variables, copy)
    return ['-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=%s'
            % code, '-drive', 'if=pflash,format=raw,unit=1,file=%s' % copy]


def boot_http(mac, tap, until, log_path, timeout=120):
    """UEFI HTTP Boot: OVMF's own network stack (no option ROM) on the tap
    device ``tap`` asks DHCP for a boot loader's URL and fetches it. PXE
    is switched off in the firmware: it would try PXE first, and wait two
    minutes for offers nobody sends. A fresh copy of the firmware's
    variables each boot."""
    qemu = require_qemu()
    for path in (OVMF_CODE, OVMF_VARS):
        if not os.path.exists(path):
            services.require_program(path)  # fails or skips, saying why
    argv = [qemu, '-machine', 'q35', '-m', '1024'] + _pflash(
        OVMF_CODE, OVMF_VARS, log_path)
    for stack in ('IPv4PXESupport', 'IPv6PXESupport'):
        argv += ['-fw_cfg', 'name=opt/org.tianocore/%s,string=n' % stack]
    return _run(argv, [mac], until, timeout, log_path,
                netdev='tap,ifname=%s,script=no,downscript=no' % tap,
                nic=',bootindex=1')


def _run(argv, macs, until, timeout, log_path, netdev, nic=''):
    argv = argv + ['-display', 'none', '-no-reboot', '-nodefaults',
                   '-serial', 'file:%s' % (log_path or os.devnull)]
    for index, mac in enumerate(macs):
        argv += ['-netdev', '%s,id=n%d' % (netdev, index),
                 '-device', 'virtio-net-pci,netdev=n%d,mac=%s,romfile=%s'
                 % (index, mac, nic)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        while time.monotonic() - started < timeout:
            exited = proc.poll() is not None
            if exited:
                time.sleep(0.5)  # the guest rebooted (-no-reboot): last look
            if until():
                return time.monotonic() - started
            if exited:
                raise RuntimeError('the VM exited (%s) before the expected '
                                   'requests' % proc.returncode)
            time.sleep(0.2)
        raise TimeoutError('VM: expected requests not seen in %ss' % timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def timeline(cluster, since, title, limit=12):
    """Print the requests since ``since``, from each server's own log (the
    API's log line per request, each conductor's HTTP server), in order."""
    events = [(r.when, 'API  ', '%s %s -> %d' % (r.method, r.path, r.status))
              for r in cluster.boot_requests(since=since)]
    for index, (host, server) in enumerate(cluster.http_servers.items()):
        name = '%-5s' % 'ABCDEFGH'[index]
        events += [
            (r.when, name, '%s %s -> %d' % (r.method, r.path, r.status))
            for r in server.requests if r.when >= since]
    print('\n%s' % title)
    for when, who, what in sorted(events)[:limit]:
        print('  +%6.3fs %s %s' % (when - since, who, what))


def console(path):
    """What the real Linux (linux.py) reported on the serial console
    logged at ``path``: ``{}`` until it is done."""
    try:
        with open(path, 'rb') as f:
            report = linux.report(f.read())
    except FileNotFoundError:
        return {}
    return report if 'arch' in report else {}


def kernel_params(config, mac):
    """The deploy kernel's parameters in a per-node iPXE script or GRUB
    config (the first kernel), as the kernel sees them: iPXE fills in
    ``${mac}``."""
    line = re.search(r'^\s*(?:kernel|linux|linuxefi) +(?:--timeout \d+ )?'
                     r'\S+ (.*?)(?: \|\| goto \w+)?$', config, re.M)
    return line.group(1).replace('${mac}', mac).split()
