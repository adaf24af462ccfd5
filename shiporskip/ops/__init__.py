"""What the machines around the site ask of it: health probes and Prometheus metrics."""
