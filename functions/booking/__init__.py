"""Booking service: quote, create (idempotent), get, list, cancel and assign (a driver to) truck bookings.

Handler string: ``booking.handler.lambda_handler``. Every price, limit, window and fee comes from
``/{tenant}/services/booking/{env}/business``; see ``booking.config_schema``.
"""
