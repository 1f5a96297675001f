"""``python -m petridish.cli``: the ``petridish`` command."""

from petridish.cli import main

raise SystemExit(main())
