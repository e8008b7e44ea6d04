"""Domain rules: plain functions taking `(*, session, now, ...)`; views, jobs and
the MQTT listener call them and never repeat them."""
