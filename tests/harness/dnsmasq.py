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

"""Debian's dnsmasq as a provisioning network's DHCP server, as Bifrost
and Metal3 configure it for UEFI HTTP Boot and iPXE.

A UEFI HTTP Boot client asks with vendor class ``HTTPClient`` and takes an
offer only if it says ``HTTPClient`` back (option 60); its boot file is a
URL. iPXE asks with user class ``iPXE`` and gets the root script. DHCP
only (no DNS), on one interface; router advertisements without DHCPv6 so
that iPXE's IPv6 configuration ends at once. Each exchange is logged, with
the time it was read.
"""

import os
import re

from tests.harness import process
from tests.harness import services


def start(workdir, interface, pool, loaders, ipxe_script):
    """dnsmasq on ``interface``, leasing ``pool`` (``(first, last)``).

    :param loaders: ``{mac: URL}``: the boot loader each UEFI HTTP Boot
        machine is given.
    :param ipxe_script: the URL iPXE is given.
    :returns: the Process; its log is dnsmasq's.
    """
    program = services.require_program('dnsmasq')
    lines = [
        'port=0', 'interface=%s' % interface, 'bind-interfaces',
        'except-interface=lo',
        'dhcp-range=%s,%s,255.255.255.0,10m' % pool,
        'dhcp-authoritative', 'log-dhcp', 'no-ping',
        'dhcp-leasefile=%s' % os.path.join(workdir, 'dnsmasq.leases'),
        'dhcp-vendorclass=set:httpboot,HTTPClient',
        'dhcp-userclass=set:ipxe,iPXE',
        'dhcp-option-force=tag:httpboot,60,HTTPClient',
        'dhcp-boot=tag:ipxe,%s' % ipxe_script,
        # iPXE's no-pxedhcp setting: no wait for ProxyDHCP offers.
        'dhcp-option=tag:ipxe,encap:175,176,1b',
        'enable-ra', 'dhcp-range=::,constructor:%s,ra-only,64,10m' % interface,
    ]
    for index, (mac, url) in enumerate(sorted(loaders.items())):
        lines += ['dhcp-host=%s,set:m%d' % (mac, index),
                  'dhcp-boot=tag:httpboot,tag:m%d,%s' % (index, url)]
    conf = os.path.join(workdir, 'dnsmasq.conf')
    with open(conf, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return process.Process(
        'dnsmasq', [program, '--no-daemon', '--conf-file=%s' % conf,
                    '--log-facility=-', '--user=root'],
        os.path.join(workdir, 'dnsmasq.log'), timestamps=True)


def exchanges(proc, mac, since=0.0):
    """``(time, line)`` of dnsmasq's DHCP lines for ``mac``."""
    found = []
    for line in proc.log().splitlines():
        when, _, text = line.partition(' ')
        try:
            when = float(when)
        except ValueError:
            continue
        if when >= since and mac in text and 'DHCP' in text:
            found.append((when, text))
    return found


def start_tftp(workdir, address, root):
    """dnsmasq as a conductor's TFTP server only: ``root`` on ``address``
    port 69, each file it sends logged with the time it was read."""
    program = services.require_program('dnsmasq')
    return process.Process(
        'tftp-%s' % address,
        [program, '--no-daemon', '--port=0', '--enable-tftp',
         '--tftp-root=%s' % root, '--listen-address=%s' % address,
         '--bind-interfaces', '--log-facility=-', '--user=root',
         '--conf-file=/dev/null', '--pid-file='],
        os.path.join(workdir, 'tftp-%s.log' % address), timestamps=True)


def sent(proc, since=0.0):
    """``(time, path)`` of each file the TFTP server ``proc`` sent."""
    found = []
    for line in proc.log().splitlines():
        when, _, text = line.partition(' ')
        match = re.search(r'dnsmasq-tftp\[\d+\]: sent (\S+) to', text)
        if match and float(when) >= since:
            found.append((float(when), match.group(1)))
    return found
