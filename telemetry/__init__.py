"""Telemetry: the MQTT listener, telemetry stores, usage-session derivation, live status."""
