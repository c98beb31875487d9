import sys

from llmpipe.cli.main import main

sys.exit(main())
