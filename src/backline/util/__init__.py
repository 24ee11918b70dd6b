"""Small helpers shared across backline."""
