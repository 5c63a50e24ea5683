"""The simulated base register of inhabitants (ROB): citizens, data-provision requests, changes."""
