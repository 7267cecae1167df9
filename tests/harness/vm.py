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
import shutil
import subprocess
import time

from tests.harness import services

IPXE_KERNEL = '/usr/lib/ipxe/ipxe.lkrn'
IPXE_EFI = '/usr/lib/ipxe/ipxe.efi'
OVMF = '/usr/share/ovmf/OVMF.fd'
GRUB_MODULES = '/usr/lib/grub/x86_64-efi'
GUEST_HOST = '10.0.2.2'


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


def build_grub(path):
    """A netboot GRUB EFI image, prefix /grub, as the notes' setup."""
    subprocess.run(['grub-mkimage', '-O', 'x86_64-efi', '-p', '/grub',
                    '-o', path, 'efinet', 'net', 'tftp', 'http', 'normal',
                    'configfile', 'echo', 'linux', 'sleep', 'reboot', 'halt'],
                   check=True, timeout=60)
    return path


def boot(macs, bootfile_url, until, timeout=90, log_path=None, uefi=False,
         forwards=()):
    """Boot iPXE (BIOS, or ``uefi``) with one virtio NIC per MAC until
    ``until()`` is true. ``forwards``: ``(guest address, port, host
    address, port)`` tuples.

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
    if forwards:
        services.require_program('socat')
    for guest, port, host, host_port in forwards:
        # QEMU's option syntax doubles commas; socat takes none here.
        options += ',guestfwd=tcp:%s:%d-cmd:socat - TCP:%s:%d' % (
            guest, port, host, host_port)
    return _run(argv, macs, options, until, timeout, log_path)


def boot_grub(macs, tftp_dir, until, timeout=120, log_path=None):
    """UEFI (OVMF) netboots GRUB from QEMU's TFTP server on ``tftp_dir``."""
    argv = [require_grub(), '-bios', OVMF, '-m', '512']
    return _run(argv, macs, 'tftp=%s,bootfile=grubx64.efi' % tftp_dir,
                until, timeout, log_path)


def _run(argv, macs, boot_options, until, timeout, log_path):
    argv = argv + ['-display', 'none', '-no-reboot', '-nodefaults',
                   '-serial', 'file:%s' % (log_path or os.devnull)]
    for index, mac in enumerate(macs):
        argv += ['-netdev', 'user,id=n%d,%s' % (index, boot_options),
                 '-device', 'virtio-net-pci,netdev=n%d,mac=%s,romfile='
                 % (index, mac)]
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
