"""``python -m headlamp_operator_testing.soak``: see :mod:`headlamp_operator_testing.soak.cli`."""
from headlamp_operator_testing.soak.cli import main

raise SystemExit(main())
