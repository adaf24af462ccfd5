from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "shiporskip.community"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created

        from shiporskip.community.voters import merge_on_sign_in
        from shiporskip.statements import allow_preparing

        user_logged_in.connect(merge_on_sign_in, dispatch_uid="community-merge")
        # Votes and bookmarks run as prepared statements on PostgreSQL (statements.prepared).
        connection_created.connect(allow_preparing, dispatch_uid="community-prepared-writes")
