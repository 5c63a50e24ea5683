"""The simulated world outside the portal: state systems (later issues) and, for development, the
citizen's mailbox and phone, where the e-mails and SMS the portal sent can be read.

Never imports portal code; it reads only the files the portal's development backends write.
"""
