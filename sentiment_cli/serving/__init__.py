"""Using a trained model elsewhere: the Python API, the HTTP server, export, Ray."""
