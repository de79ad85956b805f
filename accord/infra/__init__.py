"""Real test infrastructure (Kafka on the local JVM, embedded Postgres) started without Docker."""
