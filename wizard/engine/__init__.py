"""Sans-IO protocol cores.

Nothing in this package opens a socket, starts a thread, sleeps, reads the clock or logs a secret:
bytes and a clock go in, bytes, events and a timer come out. Drivers in ``wizard.net`` do the I/O.
"""
