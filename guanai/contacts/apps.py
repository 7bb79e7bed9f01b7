from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "guanai.contacts"
    label = "contacts"
    verbose_name = "家校联系"
