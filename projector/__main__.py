import sys

from projector.cli import main

sys.exit(main())
