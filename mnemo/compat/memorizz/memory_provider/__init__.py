"""Memory providers of the Memorizz design: ``postgresql`` (on mnemo's engine)."""
