"""`python -m assistant.cli` is `shoe-assistant`."""

import sys

from assistant.cli import main

sys.exit(main())
