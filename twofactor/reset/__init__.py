"""The two-factor reset: "Does your two-factor authentication not function properly?"."""
