"""One module per business family; each exports ``RULES``: command name → ``Rule``."""
