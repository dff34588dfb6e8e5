"""`python -m code_generation.evaluation ...`: the evaluation harness's command."""

import sys

from code_generation.evaluation.evaluate import main

sys.exit(main())
