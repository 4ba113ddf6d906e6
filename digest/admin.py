from django.contrib import admin
from django.db.models import Count

from digest.models import Delivery, Paper, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "enabled", "last_status", "last_fetched_at", "paper_count"]
    list_filter = ["kind", "enabled", "last_status"]
    search_fields = ["name", "url"]
    readonly_fields = ["last_fetched_at", "last_status", "last_error", "etag", "last_modified"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("papers"))

    @admin.display(ordering="paper_count", description="papers")
    def paper_count(self, source: Source) -> int:
        return source.paper_count


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["canonical_id", "title", "version", "first_seen", "published_at", "upvotes"]
    list_filter = [("first_seen", admin.DateFieldListFilter), "sources"]
    search_fields = ["canonical_id", "title", "abstract"]
    date_hierarchy = "first_seen"
    readonly_fields = ["first_seen", "updated_at"]
    filter_horizontal = ["sources"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "period", "status", "paper_count", "attempts", "sent_at"]
    list_filter = ["status", ("claimed_at", admin.DateFieldListFilter)]
    search_fields = ["subscriber__email", "period", "esp_message_id"]
    list_select_related = ["subscriber"]
    raw_id_fields = ["subscriber", "papers"]
    readonly_fields = ["claimed_at", "sent_at", "esp_message_id", "window_start", "window_end"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("papers"))

    @admin.display(ordering="paper_count", description="papers")
    def paper_count(self, delivery: Delivery) -> int:
        return delivery.paper_count
