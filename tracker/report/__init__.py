"""Progress, weekly reports and what to read next."""
