# Sourced by every bash the Makefile starts (BASH_ENV): what `make` creates under var/ (the
# spaCy build, logs, npm's axe-core, the engine's files) is private to the service user.
umask 077
