"""What the people who run Kilas see: one log line per request, Prometheus metrics, liveness and
readiness."""
