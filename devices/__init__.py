"""The MQTT contract with machines and rooms: topics, payloads, publishing, a simulator."""
