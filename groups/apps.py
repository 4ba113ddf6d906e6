from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    # Not "Groups": the admin lists Django's own permission groups under that name.
    verbose_name = "Reading groups and labs"
