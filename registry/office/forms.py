"""Back-office forms: shape only (lengths, types); the services validate everything that matters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from registry.fields import BoundedIntegerField
from registry.office.services import AuditInput

ENTERPRISE_TYPES = [("production", _l("Manufacturer")), ("sales_service", _l("Sales and service"))]


class ReasonMixin:
    reason = TextAreaField(_l("Reason (kept in the public history)"), validators=[DataRequired(), Length(min=2, max=2000)])


class CompanyForm(FlaskForm):
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Length(max=40)])
    province = StringField(_l("Province"), validators=[DataRequired(), Length(max=20)])
    city = StringField(_l("City"), validators=[Length(max=40)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    industry = StringField(_l("Industry"), validators=[DataRequired(), Length(max=40)])
    enterprise_type = SelectField(_l("Kind of enterprise"), choices=ENTERPRISE_TYPES)
    reason = TextAreaField(_l("Reason for the change (kept in the public history)"), validators=[Length(max=2000)])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("name", "uscc", "province", "city", "address", "industry", "enterprise_type")}


class CertificateEditForm(ReasonMixin, FlaskForm):
    scope = TextAreaField(_l("Scope of the certified service"), validators=[DataRequired(), Length(max=2000)])
    service_sites = TextAreaField(_l("Service sites (one per line)"), validators=[Length(max=40000)])


class SuspendForm(ReasonMixin, FlaskForm):
    until = DateField(_l("Suspended until"), validators=[DataRequired()])


class ReasonForm(ReasonMixin, FlaskForm):
    """Restore, revoke, withdraw: a reason and the CSRF token."""


class IssueForm(ReasonMixin, FlaskForm):
    scope = TextAreaField(_l("Scope of the certified service"), validators=[DataRequired(), Length(max=2000)])
    service_sites = TextAreaField(_l("Service sites (one per line)"), validators=[Length(max=40000)])
    outstanding = BooleanField(_l("Outstanding results: award the stars now, without a year at the Compliant level first"))
    outstanding_reason = TextAreaField(_l("What makes the results outstanding"), validators=[Length(max=2000)])


class AuditFormBase(FlaskForm):
    mode = RadioField(_l("How the audit is entered"), default="sheet",
                      choices=[("sheet", _l("Score sheet, indicator by indicator")), ("total", _l("Totals only"))])
    audited_on = DateField(_l("Audit date"), validators=[Optional()])
    special_deductions = BoundedIntegerField(_l("Special deductions (特别扣分项, count)"), default=0,
                                      validators=[Optional(), NumberRange(min=0, max=100)])
    bonus = StringField(_l("Special bonus (特别加分项, points)"), default="0", validators=[Length(max=10)])
    earned_total = StringField(_l("Points earned (totals only)"), validators=[Length(max=12)])
    applicable_total = StringField(_l("Applicable maximum (totals only)"), validators=[Length(max=12)])
    notes = TextAreaField(_l("Auditor's notes (not public)"), validators=[Length(max=4000)])
    reason = TextAreaField(_l("Reason (kept in the public history)"), validators=[Length(max=2000)])
    apply_raise = BooleanField(_l("Raise the level if the score reaches a higher one"), default=True)
    outstanding = BooleanField(_l("Outstanding results: award the stars now, without a year at the Compliant level first"))
    outstanding_reason = TextAreaField(_l("What makes the results outstanding"), validators=[Length(max=2000)])
    confirmed_score = HiddenField()
    preview = SubmitField(_l("Compute score and level"))
    save = SubmitField(_l("Save the audit"))

    def to_input(self, scheme) -> AuditInput:
        earned, excluded = {}, set()
        for indicator in scheme.indicators:
            earned[indicator.id] = getattr(self, f"earned_{indicator.id}").data
            if getattr(self, f"excluded_{indicator.id}").data:
                excluded.add(indicator.id)
        return AuditInput(audited_on=self.audited_on.data, mode=self.mode.data or "sheet", earned=earned,
                          excluded=excluded, earned_total=self.earned_total.data,
                          applicable_total=self.applicable_total.data,
                          special_deductions=self.special_deductions.data, bonus=self.bonus.data,
                          notes=self.notes.data or "")


_FORM_CLASSES: dict[str, type] = {}


def audit_form_class(scheme) -> type[AuditFormBase]:
    """A form with one "earned" and one "excluded" field per indicator of the scheme (cached per scheme)."""
    if scheme.id not in _FORM_CLASSES:
        fields = {}
        for indicator in scheme.indicators:
            fields[f"earned_{indicator.id}"] = StringField(indicator.id, validators=[Length(max=10)])
            fields[f"excluded_{indicator.id}"] = BooleanField(indicator.id)
        _FORM_CLASSES[scheme.id] = type(f"AuditForm_{len(_FORM_CLASSES)}", (AuditFormBase,), fields)
    return _FORM_CLASSES[scheme.id]
