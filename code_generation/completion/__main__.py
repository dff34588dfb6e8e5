"""`python -m code_generation.completion FILE ...`: the complete-file command."""

import sys

from code_generation.completion.cli import main

sys.exit(main())
