from cppqa.cli import main

raise SystemExit(main())
