"""Forms check shape (required, lengths, mobile number, files); rules that need the database live in services."""
from __future__ import annotations

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from registry.complaints import rules, uploads
from registry.complaints.presenters import (
    CATEGORY_NAMES,
    OUTCOME_NAMES,
    REJECTION_REASON_NAMES,
    RESOLUTION_NAMES,
    SEVERITY_NAMES,
)


def normalise_mobile(raw: str) -> str | None:
    """A mainland mobile number in E.164 (+8613812345678), or None if it is not a valid mobile number."""
    try:
        number = phonenumbers.parse((raw or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile(form, field):
    if normalise_mobile(field.data) is None:
        raise ValidationError(_l("Enter a valid mobile number, e.g. 138 1234 5678."))


def checked_files(field, max_count: int | None = None) -> list[uploads.CheckedFile] | None:
    """Read and check every uploaded file; on any refusal add the reason to the field and return None."""
    max_bytes = int(current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"])
    max_count = max_count or int(current_app.config["COMPLAINT_MAX_ATTACHMENTS"])
    files = [f for f in (field.data or []) if getattr(f, "filename", "")]
    if len(files) > max_count:
        field.errors = list(field.errors or []) + [_l("At most %(n)s files.", n=max_count)]
        return None
    checked, errors = [], []
    for storage in files:
        data = storage.read(max_bytes + 1)
        try:
            checked.append(uploads.check(storage.filename, data, max_bytes))
        except uploads.UploadRefused as refused:
            if refused.kind == "size":
                errors.append(_l("%(name)s is larger than %(mb)s MB.", name=refused.name, mb=max_bytes // (1024 * 1024)))
            elif refused.kind == "empty":
                errors.append(_l("%(name)s is empty.", name=refused.name))
            else:
                errors.append(_l("%(name)s is not a photo (JPEG, PNG, GIF, WebP) or a PDF.", name=refused.name))
    if errors:
        field.errors = list(field.errors or []) + errors
        return None
    return checked


def _choices(table: dict, ids) -> list[tuple[str, str]]:
    return [(key, table.get(key, key)) for key in ids]


class FilingForm(FlaskForm):
    certificate = StringField(_l("Certificate number"), validators=[InputRequired(_l("This field is required.")), Length(max=40)])
    category = SelectField(_l("What went wrong"), validators=[InputRequired(_l("This field is required."))])
    description = TextAreaField(_l("What happened"), validators=[InputRequired(_l("This field is required.")), Length(min=10, max=5000, message=_l("Write between 10 and 5,000 characters."))])
    purchase_date = DateField(_l("Purchase date"), validators=[Optional()],
                              render_kw={"max": "9999-12-31"})
    order_number = StringField(_l("Order or invoice number (private)"), validators=[Optional(), Length(max=80)])
    desired_resolution = SelectField(_l("What you would like"), validators=[InputRequired(_l("This field is required."))],
                                     choices=lambda: _choices(RESOLUTION_NAMES, rules.RESOLUTIONS))
    amount = DecimalField(_l("Amount (yuan, optional)"), places=2,
                          validators=[Optional(), NumberRange(min=0, max=10_000_000, message=_l("Enter an amount from 0 to 10,000,000."))])
    name = StringField(_l("Your name"), validators=[InputRequired(_l("This field is required.")), Length(max=60)])
    mobile = StringField(_l("Mobile number"), validators=[InputRequired(_l("This field is required.")), Length(max=30), _mobile])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), Length(max=254), Email(_l("Enter a valid e-mail address, or leave it empty."))])
    attachments = MultipleFileField(_l("Photos or PDF (up to 5, 5 MB each)"))
    consent = BooleanField(_l("I have read who will see what, and I agree."),
                           validators=[InputRequired(_l("Please confirm that you have read who will see what."))])
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill every field.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = _choices(CATEGORY_NAMES, current_app.config["COMPLAINT_CATEGORIES"])


class ResendLinkForm(FlaskForm):
    mobile = StringField(_l("The mobile number you filed with"),
                         validators=[InputRequired(_l("This field is required.")), Length(max=30), _mobile])


class MessageForm(FlaskForm):
    text = TextAreaField(_l("Message"), validators=[Optional(), Length(max=5000)])
    proposal = TextAreaField(_l("Proposed resolution (optional)"), validators=[Optional(), Length(max=2000)])
    attachments = MultipleFileField(_l("Evidence: photos or PDF (optional)"))
    token = HiddenField()
    version = IntegerField(validators=[Optional()])


class ModerationForm(FlaskForm):
    note = TextAreaField(_l("Message to the parties (optional)"), validators=[Optional(), Length(max=5000)])
    reason = SelectField(_l("Reason for not accepting"), validators=[Optional()],
                         choices=lambda: [("", "—")] + _choices(REJECTION_REASON_NAMES, rules.REJECTION_REASONS))
    outcome = SelectField(_l("Outcome"), validators=[Optional()],
                          choices=lambda: [("", "—")] + _choices(OUTCOME_NAMES, [o.value for o in rules.CLOSING_OUTCOMES]))
    severity = SelectField(_l("Severity (for upheld complaints)"), validators=[Optional()],
                           choices=lambda: [("", "—")] + _choices(SEVERITY_NAMES, [s.value for s in rules.Severity]))
    public_summary = TextAreaField(_l("Public summary (no names, phones or order numbers)"),
                                   validators=[Optional(), Length(max=2000)])
    early_reason = TextAreaField(_l("Reason for closing before the consumer's time to reply is over (shown to the consumer)"),
                                 validators=[Optional(), Length(max=2000)])
    version = IntegerField(validators=[Optional()])


class SanctionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[("confirm", _l("Confirm")), ("reject", _l("Reject"))],
                          validators=[Optional()])
    text = TextAreaField(_l("Reason or statement"), validators=[InputRequired(), Length(min=2, max=5000)])
    version = IntegerField(validators=[Optional()])
