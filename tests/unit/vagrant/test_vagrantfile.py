"""The Vagrant VM: a valid Vagrantfile provisioned by the shared install script."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

VAGRANTFILE = ROOT / "vagrant" / "Vagrantfile"


def test_vagrantfile_is_valid_ruby():
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("ruby is not installed (scripts/install.sh installs it)")
    done = subprocess.run([ruby, "-c", str(VAGRANTFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Syntax OK" in done.stdout


def test_vagrantfile_machine():
    text = VAGRANTFILE.read_text()
    assert 'config.vm.box = "debian/bookworm64"' in text
    assert 'config.vm.synced_folder "..", "/vagrant"' in text
    for provider in ("virtualbox", "libvirt"):
        block = text.split(f'provider "{provider}"')[1].split("\n  end")[0]
        assert re.search(r"\.cpus = 2\b", block), provider
        assert re.search(r"\.memory = 4096\b", block), provider


def test_synced_folder_is_rsync_for_every_provider():
    """debian/bookworm64 has no VirtualBox guest additions: vboxsf would not mount."""
    text = VAGRANTFILE.read_text()
    machine = text.split('config.vm.provider "virtualbox"')[0]
    assert 'SYNC = ENV.fetch("ANYCAST_VAGRANT_SYNC", "rsync")' in machine
    assert re.search(r'synced_folder "\.\.", "/vagrant", type: "rsync",\s+rsync__exclude', machine)
    for provider in ("virtualbox", "libvirt"):
        block = text.split(f'provider "{provider}"')[1].split("\n  end")[0]
        assert "synced_folder" not in block, provider
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## In a VM (Vagrant), and the course labs")[1].split("\n## ")[0]
    assert "rsync" in section and "one-way" in section and "ANYCAST_VAGRANT_SYNC" in section
    assert "visible from\nthe host" not in section


def test_provisioning_calls_the_shared_install_script():
    text = VAGRANTFILE.read_text()
    provision = text.split("config.vm.provision")[1]
    assert "bash /vagrant/scripts/install.sh" in provision
    assert "apt-get" not in text and "pip install" not in text, "no second copy of install steps"


def test_makefile_and_install_script_share_the_venv_setting(tmp_path):
    env = tmp_path / "env"
    env.write_text("VENV=/opt/anycast-venv\n")
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "demo", f"ANYCAST_ENV_FILE={env}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "VENV=/opt/anycast-venv bash scripts/install.sh" in done.stdout
    assert "/opt/anycast-venv/bin/anycast-testbed run" in done.stdout
    default = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "demo", f"ANYCAST_ENV_FILE={tmp_path / 'none'}"],
        capture_output=True,
        text=True,
    )
    assert ".venv/bin/anycast-testbed run" in default.stdout
    script = (ROOT / "scripts" / "install.sh").read_text()
    assert "/etc/anycast-testbed/env" in script and 'VENV="${VENV:-$HERE/.venv}"' in script
    assert "VENV=" in (ROOT / "vagrant" / "Vagrantfile").read_text()


def test_the_solutions_are_not_copied_into_the_vm():
    """Students work in the VM: labs/solutions/ stays on the host."""
    text = VAGRANTFILE.read_text()
    excludes = re.search(r"rsync__exclude: \[([^\]]*)\]", text)
    assert excludes and '"labs/solutions/"' in excludes.group(1)
    assert "student-dist" in text, "the two-way share: say how students get a VM without them"
