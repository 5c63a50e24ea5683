-- The simulated state systems keep their data apart from the portal's.
CREATE DATABASE govsim OWNER mojeid;
