from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from config import outbox
from digest import feedback
from digest import views as digest_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers and feed readers ask for /favicon.ico whatever a page links (the admin
    # links none). Lazy: the static URL is known once the storage is ready. Not
    # permanent, so the icon may still move.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("paperboy/favicon.svg"))),
    # The email provider's delivery webhooks, answering only with WEBHOOK_SECRET set
    # (digest/feedback.py guards them and receives the events).
    path("anymail/", include(feedback.webhook_urlpatterns())),
    path("digest/<str:token>/", digest_views.web_copy, name="web_copy"),
    path("groups/", include("groups.urls")),
    path("feedback/<str:token>/<str:choice>/", digest_views.feedback_link, name="feedback_link"),
    path("manage/<str:token>/feedback/", digest_views.manage_feedback, name="manage_feedback"),
    path("status/", digest_views.status, name="status"),
    path("status.json", digest_views.status_json, name="status_json"),
    path("", include("subscriptions.urls")),
]

urlpatterns += [
    path("outbox/", outbox.outbox_list, name="outbox"),
    path("outbox/<str:name>/", outbox.outbox_message, name="outbox-message"),
    path("outbox/<str:name>/html/", outbox.outbox_message_html, name="outbox-message-html"),
]
