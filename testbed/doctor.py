"""``anycast-testbed doctor``: is this machine ready, and how to fix what is not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from testbed.net import frr, links

INSTALL = "sudo scripts/install.sh"


@dataclass
class Check:
    """One readiness check."""

    name: str
    ok: bool
    detail: str
    fix: Optional[str] = None
    required: bool = True


def _version(argv: List[str]) -> Optional[str]:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def speaker_library() -> Optional[str]:
    """Which BGPSpeaker library imports here: 'ryu 4.34', 'os-ken X', or None.

    The speaker's own import (:func:`testbed.speaker.import_bgpspeaker`), in a
    child process.
    """
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from testbed.speaker import describe_library; print(describe_library())\n"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def exabgp_version() -> Optional[str]:
    """The installed ExaBGP's version (``speaker: exabgp``), None if it is not installed."""
    from testbed.speaker.exabgp import exabgp_version as installed

    return installed()


def bird_version() -> Optional[str]:
    """The installed BIRD's version (``daemon: bird``), None if it is not installed."""
    from testbed.net.bird import bird_version as installed

    return installed()


def run_checks() -> List[Check]:
    """Run every check; nothing is changed on the machine."""
    checks: List[Check] = []
    root = os.geteuid() == 0
    checks.append(
        Check(
            "root",
            root,
            "running as root" if root else "not root",
            "run with sudo (namespaces, veth and FRR need root)",
        )
    )
    zebra = frr.FRR_DAEMON_DIR / "zebra"
    version = frr.frr_version() if zebra.exists() else None
    checks.append(
        Check(
            "FRR",
            bool(version and version != "unknown"),
            f"FRR {version} in {frr.FRR_DAEMON_DIR}" if version else "FRR not found",
            f"{INSTALL}  (apt-get install frr)",
        )
    )
    checks.append(
        Check(
            "vtysh",
            shutil.which("vtysh") is not None,
            shutil.which("vtysh") or "missing",
            f"{INSTALL}  (apt-get install frr)",
        )
    )
    try:
        import mininet.net  # noqa: F401

        mn_ok, mn_detail = shutil.which("mnexec") is not None, "Mininet (Debian package)"
    except ImportError:
        mn_ok, mn_detail = False, "Mininet does not import in this Python"
    checks.append(
        Check(
            "Mininet",
            mn_ok,
            mn_detail + ("" if shutil.which("mnexec") else "; no mnexec"),
            f"{INSTALL}  (apt-get install mininet; venv with --system-site-packages)",
        )
    )
    nsd = _version(["nsd", "-v"]) if shutil.which("nsd") else None
    checks.append(
        Check("NSD", nsd is not None, nsd or "nsd not found", f"{INSTALL}  (apt-get install nsd)")
    )
    nginx = _version(["nginx", "-v"]) if shutil.which("nginx") else None
    checks.append(
        Check(
            "nginx",
            nginx is not None,
            nginx or "nginx not found (probe kinds http-short and hybrid)",
            f"{INSTALL}  (apt-get install nginx)",
            required=False,
        )
    )
    bird = bird_version()
    checks.append(
        Check(
            "BIRD",
            bird is not None,
            f"BIRD {bird} (ASes with daemon: bird)"
            if bird
            else "bird not found (ASes with daemon: bird)",
            f"{INSTALL}  (apt-get install bird2)",
            required=False,
        )
    )
    for daemon, binary, pkg in (
        ("unbound", "unbound", "unbound"),
        ("PowerDNS", "pdns_server", "pdns-server pdns-backend-bind"),
    ):
        path = shutil.which(binary) or (
            f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
        )
        checks.append(
            Check(
                daemon,
                path is not None,
                path or f"{binary} not found (topologies with a service block: anycast vs GSLB)",
                f"{INSTALL}  (apt-get install {pkg})",
                required=False,
            )
        )
    for tool, pkg in (("dig", "dnsutils"), ("tcpdump", "tcpdump"), ("nsenter", "util-linux")):
        path = shutil.which(tool)
        checks.append(
            Check(
                tool,
                path is not None,
                path or "missing",
                f"apt-get install {pkg}",
                required=tool != "tcpdump",
            )
        )
    nft = shutil.which("nft")
    try:
        import nftables  # noqa: F401 - Debian's python3-nftables, for the load recorder

        nft_python = True
    except ImportError:
        nft_python = False
    checks.append(
        Check(
            "nftables",
            nft is not None and nft_python,
            (nft or "nft missing") + ("" if nft_python else "; python3-nftables missing"),
            f"{INSTALL}  (apt-get install nftables python3-nftables: site load counters)",
        )
    )
    netem = links.netem_in_kernel()
    checks.append(
        Check(
            "netem",
            netem,
            "kernel has sch_netem: link delays apply" if netem else links.NETEM_UNAVAILABLE,
            "use a kernel with sch_netem (the Vagrant VM's Debian kernel has it)",
            required=False,
        )
    )
    speaker = speaker_library()
    checks.append(
        Check(
            "BGP speaker library",
            speaker is not None,
            speaker or "neither ryu nor os_ken imports",
            f"{INSTALL}  (ryu 4.34 on Python < 3.12, os-ken on 3.12+)",
            required=False,
        )
    )
    exabgp = exabgp_version()
    checks.append(
        Check(
            "ExaBGP",
            exabgp is not None,
            f"exabgp {exabgp} (speaker: exabgp)" if exabgp else "exabgp is not installed",
            f"{INSTALL}  (pip install -e .[dev] installs exabgp)",
            required=False,
        )
    )
    py = sys.version.split()[0]
    checks.append(
        Check(
            "Python",
            sys.version_info >= (3, 9),
            f"Python {py} ({sys.executable})",
            "use Python 3.9 or later",
        )
    )
    return checks
