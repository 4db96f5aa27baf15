# Views arrive with this app's features.
