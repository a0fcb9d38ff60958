"""``python -m headlamp_operator`` is the same program as the ``headlamp-operator`` console script."""
from headlamp_operator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
