"""The Django admin for helpdesk staff."""
