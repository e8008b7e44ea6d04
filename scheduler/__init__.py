"""Time-slot enforcement: APScheduler jobs that act on the database state."""
