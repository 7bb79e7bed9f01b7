from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "guanai.care"
    label = "care"
    verbose_name = "心理关爱与儿童保护"
