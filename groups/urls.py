from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("new/", views.start_group, name="start"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("join/<str:token>/", views.join, name="join"),
    path("leave/<str:token>/", views.leave, name="leave"),
]
