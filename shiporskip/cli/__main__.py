"""`python -m shiporskip.cli ...`: how `up` starts its worker, and how tests start the command."""

import sys

from shiporskip.cli import main

sys.exit(main())
