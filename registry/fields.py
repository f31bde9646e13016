"""Form fields that stay within what the database and the validators can hold."""
from __future__ import annotations

from wtforms import IntegerField


class BoundedIntegerField(IntegerField):
    """An IntegerField that refuses more than `max_digits` digits while parsing.

    WTForms' NumberRange compares through float(), which overflows on a 1,000-digit number, and SQLite
    overflows past 2**63: a count or a version never needs more than a few digits, so refuse early with a
    field error instead.
    """

    def __init__(self, label=None, validators=None, max_digits: int = 9, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_digits = max_digits

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] is not None and len(str(valuelist[0]).strip().lstrip("+-")) > self.max_digits:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)
