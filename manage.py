#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    from payments_dashboard.env import load_env_file

    load_env_file()  # the same `.env` as `make run`, the app servers and docker compose read
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
