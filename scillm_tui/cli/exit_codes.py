"""The exit codes every command shares: scripts branch on them."""

EXIT_OK = 0  # success: a verdict (a tie too), or at least one finished variant without judging
EXIT_FAILED = 1  # nothing usable (the output is still printed)
EXIT_USAGE = 2  # a usage or configuration error, said in one line on stderr

EXIT_CODES = {  # for --help
    EXIT_OK: "a verdict, a tie included (or, with --no-judge, at least one finished variant)",
    EXIT_FAILED: "nothing usable: all variants failed, the judge failed, or --export could "
    "not write (the JSON is still printed)",
    EXIT_USAGE: "a usage or configuration error, in one line on stderr",
}
