"""smartfab: bookings, machine access and billing for a shared smart factory."""
