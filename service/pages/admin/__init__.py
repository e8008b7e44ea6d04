"""Administering the catalogue and the people: sites, resources, devices, trainings, accounts.

Admins see everything; operators the resources, devices and trainings of their sites and
the makers' accounts. Each form is read by the API's own shape and changed by the API's
own rule, so a page and a JSON call accept and refuse the same things.
"""

from . import accounts, catalogue, devices, invoices, plans, rentals, sites, trainings
from .base import bp

__all__ = [
    "accounts",
    "bp",
    "catalogue",
    "devices",
    "invoices",
    "plans",
    "rentals",
    "sites",
    "trainings",
]
