"""The ``fcnet`` command line: one module per subcommand."""
