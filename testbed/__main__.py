"""``python -m testbed`` is the ``anycast-testbed`` command."""

from testbed.cli import main

if __name__ == "__main__":
    main()
