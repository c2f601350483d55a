"""The ``anycast-testbed`` command line (click): the group and its entry point.

Every command lives in its own module under :mod:`testbed.commands` (``sweep``,
``reproduce`` and ``lab`` in their packages); this module only adds them to
the group.  Bad input of any kind (topology, options) ends with one line
naming what is wrong and exit status 2, before anything is started.

Only the entry points import this module (``anycast-testbed`` and
``python -m testbed``); the commands print through :mod:`testbed.console`.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import click

from testbed import __version__
from testbed.commands.clean import clean
from testbed.commands.compare import compare
from testbed.commands.doctor import doctor
from testbed.commands.exec_ import exec_cmd, vtysh
from testbed.commands.export import export
from testbed.commands.list_ import list_cmd
from testbed.commands.options import CONTEXT
from testbed.commands.playbook import playbook
from testbed.commands.report import report
from testbed.commands.run import run
from testbed.commands.shell import shell
from testbed.commands.topology import topology
from testbed.commands.up import up
from testbed.commands.validate import validate
from testbed.console import fail
from testbed.errors import InputError, TestbedError
from testbed.labs.cli import lab
from testbed.reproduce.command import reproduce
from testbed.sweep.command import sweep


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="anycast-testbed")
def cli() -> None:
    """A Mininet + FRR testbed for learning and measuring BGP anycast.

    Sites announce the same prefix (192.0.2.0/24); clients reach the service
    address 192.0.2.53 over DNS/UDP and TCP; scenarios fail and restore sites.
    """


cli.add_command(list_cmd)
cli.add_command(validate)
cli.add_command(topology)
cli.add_command(up)
cli.add_command(run)
cli.add_command(playbook)
cli.add_command(report)
cli.add_command(compare)
cli.add_command(export)
cli.add_command(exec_cmd)
cli.add_command(vtysh)
cli.add_command(shell)
cli.add_command(clean)
cli.add_command(doctor)
cli.add_command(sweep)
cli.add_command(reproduce)
cli.add_command(lab)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: run the CLI; map every error to one line and an exit status."""
    try:
        code = cli.main(args=argv, prog_name="anycast-testbed", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help())
        code = 0
    except click.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        fail(f"{exc.format_message()}{hint}")
        code = 2
    except click.Abort:
        code = 130
    except InputError as exc:
        fail(str(exc))
        code = 2
    except TestbedError as exc:
        fail(str(exc))
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
