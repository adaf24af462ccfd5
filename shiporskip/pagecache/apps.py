from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "shiporskip.pagecache"
    label = "pagecache"
    verbose_name = "Page cache generations"
