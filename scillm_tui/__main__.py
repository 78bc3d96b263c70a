from scillm_tui.cli import main

raise SystemExit(main())
