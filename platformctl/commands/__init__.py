"""One module per ``platformctl`` command group."""
