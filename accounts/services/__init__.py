"""Domain operations on accounts. Views, admin actions, tasks and commands call these."""
