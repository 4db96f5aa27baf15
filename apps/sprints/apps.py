from django.apps import AppConfig


class SprintsConfig(AppConfig):
    name = "apps.sprints"
    label = "sprints"
