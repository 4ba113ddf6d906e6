from django.urls import path

from subscriptions import data_views, views

app_name = "subscriptions"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/preview.json", views.manage_preview, name="manage_preview"),
    path("manage/<str:token>/archive/", data_views.archive, name="archive"),
    path("manage/<str:token>/export.<str:kind>", data_views.export, name="export"),
    path("feed/<str:token>.atom", data_views.feed, name="feed"),
    path("my-link/", views.request_link, name="request_link"),
    path("preview.json", views.preview_matches, name="preview_matches"),
]
