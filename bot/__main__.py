"""`python -m bot ...` runs the admin command line."""

import sys

from bot.cli import main

sys.exit(main())
