from django.contrib import admin
from django.urls import include, path

from config import outbox
from digest import feedback
from digest import views as digest_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # The email provider's delivery webhooks, answering only with WEBHOOK_SECRET set
    # (digest/feedback.py guards them and receives the events).
    path("anymail/", include(feedback.webhook_urlpatterns())),
    path("digest/<str:token>/", digest_views.web_copy, name="web_copy"),
    path("", include("subscriptions.urls")),
]

urlpatterns += [
    path("outbox/", outbox.outbox_list, name="outbox"),
    path("outbox/<str:name>/", outbox.outbox_message, name="outbox-message"),
    path("outbox/<str:name>/html/", outbox.outbox_message_html, name="outbox-message-html"),
]
