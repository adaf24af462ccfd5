from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "shiporskip.community"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from shiporskip.community.voters import merge_on_sign_in

        user_logged_in.connect(merge_on_sign_in, dispatch_uid="community-merge")
