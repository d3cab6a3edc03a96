"""``python -m autograder``: the same command line as ``autograder``."""

from autograder.cli import main

raise SystemExit(main())
