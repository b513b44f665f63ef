import sys

from kilas.cli import main

sys.exit(main())
