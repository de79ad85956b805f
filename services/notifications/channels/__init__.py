"""How a notice leaves the service: webhook, email over SMTP, or stored for the app."""
